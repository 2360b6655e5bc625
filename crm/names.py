"""Company names compared the way promoters mean them: width, case, spaces and brackets ignored."""

import re
import unicodedata

_IGNORED = re.compile(r"[\s()\[\]{}【】《》·.,，。、\-_/]+")


def normalise_company_name(name: str) -> str:
    # NFKC folds full-width letters and brackets （） into their ASCII forms before stripping.
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    return _IGNORED.sub("", folded)
