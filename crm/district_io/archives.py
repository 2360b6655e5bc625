"""Limits on an uploaded .zip or .xlsx (an .xlsx is a zip too), checked before anything is unpacked.

A zip bomb — a few kilobytes that inflate to gigabytes, or thousands of members — would exhaust a
worker's memory in openpyxl or in the CSV reader. The central directory states each member's size,
and Python's zipfile never inflates a member past the size it states (a lie fails its CRC check),
so checking the stated sizes bounds what reading can cost.
"""

import zipfile
from dataclasses import dataclass
from typing import IO

from django.conf import settings

from crm.validators import UNSAFE_CHARACTERS


@dataclass(frozen=True)
class ArchiveLimits:
    """The most an import may unpack; defaults from settings (IMPORT_MAX_*)."""

    members: int
    unpacked_bytes: int
    ratio: int  # uncompressed / compressed, for members larger than RATIO_FLOOR

    @classmethod
    def configured(cls) -> "ArchiveLimits":
        return cls(
            members=settings.IMPORT_MAX_ARCHIVE_MEMBERS,
            unpacked_bytes=settings.IMPORT_MAX_UNPACKED_BYTES,
            ratio=settings.IMPORT_MAX_COMPRESSION_RATIO,
        )


# Small members may compress far (a sheet of empty cells); only a large one at a bomb's ratio matters.
RATIO_FLOOR = 1024 * 1024


def archive_problem(source: IO[bytes] | str, limits: ArchiveLimits | None = None) -> str | None:
    """Why the zip (or workbook) `source` must not be unpacked ("中文 / English"), or None.

    An unreadable file is not reported here: the reader says what is wrong with it.
    """
    limits = limits or ArchiveLimits.configured()
    position = source.tell() if hasattr(source, "tell") else None
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None
    finally:
        if position is not None:
            source.seek(position)
    if len(members) > limits.members:
        return (
            f"压缩包内文件过多({len(members)} 个,最多 {limits.members} 个)/ "
            f"the archive holds {len(members)} files, at most {limits.members} are accepted"
        )
    total = sum(member.file_size for member in members)
    if total > limits.unpacked_bytes:
        mb = limits.unpacked_bytes // (1024 * 1024)
        return f"解压后超过 {mb} MB / the archive unpacks to more than {mb} MB"
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size > RATIO_FLOOR and ratio > limits.ratio:
            name = UNSAFE_CHARACTERS.sub("", member.filename)[:100]
            return (
                f"{name} 压缩比异常({ratio:.0f}:1),疑为压缩炸弹 / "
                f"{name} is compressed {ratio:.0f}:1, like a zip bomb"
            )
    return None
