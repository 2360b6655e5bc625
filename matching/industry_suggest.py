"""Suggest a lead's GB/T 4754 division from its business scope (经营范围): char TF-IDF + linear model.

Trained on two kinds of text: the GB/T 4754-2017 standard's own (every division's name and what it
covers, every group with its classes; matching/industry_text.py), so that all 97 divisions can be
suggested on a fresh install, and the business scopes of the district's enterprises whose industry is
known, so that the model learns how the district's companies write. Licences' legal formulas are cut
first. Chinese has no spaces, so the features are character 1–3-grams ("软件", "软件开", "开发"), weighted
by sublinear TF and IDF and l2-normalised; a one-vs-rest logistic model fitted by SGD scores each
division (seconds for 97 divisions, where the multinomial solver took half a minute), and the scores'
sigmoids, normalised to sum to 1, are the probabilities. The fitted arrays (vocabulary, idf,
coefficients) are stored as one .npz in IndustryModel and loaded without pickle; predictions rebuild
the same features with a fixed vocabulary.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize

from crm.models import Enterprise, Industry
from matching.core.types import MatchingInputError
from matching.industry_text import scope_text, standard_documents
from matching.models import IndustryModel

NGRAMS = (1, 3)
MAX_FEATURES = 60_000
MIN_PER_DIVISION = 5  # divisions with fewer enterprises are learned from the standard's text alone
# Enterprises per division learned from: beyond this the scopes of one division mostly repeat each
# other, and the biggest divisions' prior would drown the standard's text of the small ones.
MAX_PER_DIVISION = 60
# One document of the standard counts as this many enterprises: it is short and exact, where a
# licence lists several activities.
STANDARD_WEIGHT = 2.0
HOLDOUT = 0.2
ALPHA = 1e-5  # SGD's L2 penalty
EPOCHS = 10
TOP = 3
SOFTMAX, ONE_VS_REST = "softmax", "ovr"


@dataclass(frozen=True)
class Suggestion:
    code: str
    name: str
    probability: float


@dataclass(frozen=True)
class Classifier:
    """The stored arrays, ready to score text."""

    version: int
    vocabulary: np.ndarray  # n-gram strings, index = feature column
    idf: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    classes: np.ndarray  # division codes
    link: str = ONE_VS_REST  # how scores become probabilities; versions before it were softmax

    def __post_init__(self) -> None:
        vectorizer = CountVectorizer(
            analyzer="char",
            ngram_range=NGRAMS,
            vocabulary={t: i for i, t in enumerate(self.vocabulary.tolist())},
        )
        object.__setattr__(self, "_counts", vectorizer)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        counts = self._counts.transform([scope_text(t) for t in texts]).astype(float)  # type: ignore[attr-defined]
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as at training
        features = normalize(counts.multiply(self.idf).tocsr())
        scores = np.asarray(features @ self.coef.T) + self.intercept
        if self.link == ONE_VS_REST:
            # each division's own logistic model, normalised over divisions (as scikit-learn does)
            odds = 1.0 / (1.0 + np.exp(-scores))
            return odds / odds.sum(axis=1, keepdims=True)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Corpus:
    """Texts to learn from, with their division and weight."""

    texts: list[str]
    labels: list[str]
    weights: list[float]

    def __add__(self, other: Corpus) -> Corpus:
        return Corpus(self.texts + other.texts, self.labels + other.labels, self.weights + other.weights)


def standard_corpus() -> Corpus:
    documents = standard_documents()
    return Corpus(
        [text for text, _ in documents],
        [code for _, code in documents],
        [STANDARD_WEIGHT] * len(documents),
    )


def enterprise_corpus(rows: list[tuple[str, str]], *, seed: int = 0) -> Corpus:
    """(business scope, division) rows: divisions with too few left out, the big ones sampled down."""
    by_division: dict[str, list[str]] = {}
    for text, code in rows:
        by_division.setdefault(code, []).append(text)
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels: list[str] = []
    for code in sorted(by_division):
        scopes = by_division[code]
        if len(scopes) < MIN_PER_DIVISION:
            continue
        if len(scopes) > MAX_PER_DIVISION:
            keep = np.sort(rng.choice(len(scopes), size=MAX_PER_DIVISION, replace=False))
            scopes = [scopes[i] for i in keep]
        texts += scopes
        labels += [code] * len(scopes)
    return Corpus(texts, labels, [1.0] * len(texts))


def fit_classifier(corpus: Corpus, *, seed: int = 0, version: int = 0) -> Classifier:
    """Fit the features and the per-division logistic models on `corpus` (pure: no database)."""
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, max_features=MAX_FEATURES
    )
    features = vectorizer.fit_transform([scope_text(text) for text in corpus.texts])
    model = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=seed)
    model.fit(features, corpus.labels, sample_weight=np.array(corpus.weights))
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    coef, intercept = model.coef_, model.intercept_
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one model; the other is its complement
        coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
    return Classifier(
        version=version,
        vocabulary=np.array([term for term, _ in vocabulary], dtype=str),
        idf=vectorizer.idf_.astype(np.float32),
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        classes=np.array(model.classes_, dtype=str),
        link=ONE_VS_REST,
    )


def accuracy(classifier: Classifier, texts: list[str], labels: list[str]) -> dict[str, float]:
    """Top-1 and top-3 accuracy of `classifier` on `texts` whose divisions are `labels`."""
    probabilities = classifier.probabilities(texts)
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :TOP]
    predicted = classifier.classes[top]
    truth = np.array(labels)
    return {
        "top1": float((predicted[:, 0] == truth).mean()),
        "top3": float((predicted == truth[:, None]).any(axis=1).mean()),
        "holdout": len(labels),
    }


def _enterprise_rows() -> list[tuple[str, str]]:
    return list(
        Enterprise.objects.exclude(business_scope="")
        .filter(industry__level="division")
        .order_by("pk")
        .values_list("business_scope", "industry_id")
    )


def industry_model_train(*, seed: int = 0) -> IndustryModel:
    """Train on the standard's text and the enterprises' scopes; store a new version.

    The stored accuracy is measured on a held-out fifth of the enterprises (when there are at least
    50 of them), with a model fitted on the standard and the other four fifths; the stored model is
    then refitted on everything.
    """
    enterprises = enterprise_corpus(_enterprise_rows(), seed=seed)
    held_out: dict[str, float] = {}
    if len(enterprises.texts) >= 50:
        train_texts, test_texts, train_labels, test_labels = train_test_split(
            enterprises.texts,
            enterprises.labels,
            test_size=HOLDOUT,
            random_state=seed,
            stratify=enterprises.labels,
        )
        train = Corpus(train_texts, train_labels, [1.0] * len(train_texts))
        held_out = accuracy(fit_classifier(standard_corpus() + train, seed=seed), test_texts, test_labels)
    classifier = fit_classifier(standard_corpus() + enterprises, seed=seed)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        vocabulary=classifier.vocabulary,
        idf=classifier.idf,
        coef=classifier.coef,
        intercept=classifier.intercept,
        classes=classifier.classes,
        link=np.array(classifier.link),
    )
    with transaction.atomic():
        version = (IndustryModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
        row = IndustryModel(
            version=version,
            created_at=timezone.now(),
            samples=len(enterprises.texts),
            classes=len(classifier.classes),
            accuracy=held_out,
            payload=buffer.getvalue(),
        )
        row.full_clean()
        row.save()
    return row


_cache: dict[str, Classifier] = {}
_lock = threading.Lock()


def load_classifier() -> Classifier | None:
    """The newest stored classifier (one query to learn its version; loaded once per version)."""
    version = IndustryModel.objects.aggregate(v=Max("version"))["v"]
    if version is None:
        return None
    with _lock:
        found = _cache.get("current")
        if found is not None and found.version == version:
            return found
        payload = IndustryModel.objects.values_list("payload", flat=True).get(version=version)
        arrays = np.load(io.BytesIO(bytes(payload)), allow_pickle=False)
        found = Classifier(
            version=version,
            vocabulary=arrays["vocabulary"],
            idf=arrays["idf"],
            coef=arrays["coef"],
            intercept=arrays["intercept"],
            classes=arrays["classes"],
            link=str(arrays["link"]) if "link" in arrays.files else SOFTMAX,
        )
        _cache["current"] = found
        return found


def suggest_industry(business_scope: str, *, top: int = TOP) -> list[Suggestion]:
    """The `top` likeliest divisions for a business-scope text, with probabilities, likeliest first."""
    text = (business_scope or "").strip()
    if not text:
        raise MatchingInputError("business_scope", "经营范围为空,无法推荐行业", "the business scope is empty")
    classifier = load_classifier()
    if classifier is None:
        raise MatchingInputError(
            "business_scope",
            "尚未训练行业推荐模型,请先运行 manage.py train_matching",
            "no industry model has been trained yet: run manage.py train_matching",
        )
    probabilities = classifier.probabilities([text])[0]
    best = np.argsort(-probabilities, kind="stable")[:top]
    codes = classifier.classes[best].tolist()
    names = dict(Industry.objects.filter(code__in=codes).values_list("code", "name_zh"))
    return [
        # exact, as the model computes it: pages round it for display, the API passes it on
        Suggestion(code=code, name=names.get(code, ""), probability=float(probabilities[i]))
        for code, i in zip(codes, best.tolist(), strict=True)
    ]
