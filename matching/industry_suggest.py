"""Suggest a lead's GB/T 4754 division from its business scope (经营范围): char TF-IDF + linear model.

Trained on the business scopes of the district's enterprises whose industry is known. Chinese has no
spaces, so the features are character 1–3-grams ("软件", "软件开", "开发"), weighted by sublinear TF
and IDF and l2-normalised; a multinomial logistic regression turns them into a probability per
division. The fitted arrays (vocabulary, idf, coefficients) are stored as one .npz in IndustryModel
and loaded without pickle; predictions rebuild the same features with a fixed vocabulary.
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
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import normalize

from crm.models import Enterprise, Industry
from matching.core.types import MatchingInputError
from matching.models import IndustryModel

NGRAMS = (1, 3)
MAX_FEATURES = 40_000
MIN_PER_DIVISION = 5  # divisions with fewer examples are left out of the classifier
MAX_SAMPLES = 60_000  # enough to learn every division; keeps training to about a minute at city scale
HOLDOUT = 0.2
REGULARISATION = 10.0
TOP = 3


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

    def __post_init__(self) -> None:
        vectorizer = CountVectorizer(
            analyzer="char",
            ngram_range=NGRAMS,
            vocabulary={t: i for i, t in enumerate(self.vocabulary.tolist())},
        )
        object.__setattr__(self, "_counts", vectorizer)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        counts = self._counts.transform(texts).astype(float)  # type: ignore[attr-defined]
        counts.data = 1.0 + np.log(counts.data)  # sublinear tf, as at training
        features = normalize(counts.multiply(self.idf).tocsr())
        scores = features @ self.coef.T + self.intercept
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


def _training_rows(max_samples: int, seed: int) -> tuple[list[str], list[str]]:
    rows = list(
        Enterprise.objects.exclude(business_scope="")
        .filter(industry__level="division")
        .order_by("pk")
        .values_list("business_scope", "industry_id")
    )
    if len(rows) > max_samples:
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(len(rows), size=max_samples, replace=False))
        rows = [rows[i] for i in keep]
    codes, counts = np.unique([code for _, code in rows], return_counts=True)
    enough = set(codes[counts >= MIN_PER_DIVISION].tolist())
    rows = [(text, code) for text, code in rows if code in enough]
    return [text for text, _ in rows], [code for _, code in rows]


def _fit(texts: list[str], labels: list[str]) -> tuple[TfidfVectorizer, LogisticRegression]:
    vectorizer = TfidfVectorizer(
        analyzer="char", ngram_range=NGRAMS, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES
    )
    features = vectorizer.fit_transform(texts)
    model = LogisticRegression(C=REGULARISATION, max_iter=300)
    model.fit(features, labels)
    return vectorizer, model


def _classifier(version: int, vectorizer: TfidfVectorizer, model: LogisticRegression) -> Classifier:
    vocabulary = sorted(vectorizer.vocabulary_.items(), key=lambda item: item[1])
    coef = model.coef_
    intercept = model.intercept_
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; make it a softmax of two
        coef = np.vstack([-coef[0] / 2, coef[0] / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
    return Classifier(
        version=version,
        vocabulary=np.array([term for term, _ in vocabulary], dtype=str),
        idf=vectorizer.idf_.astype(np.float32),
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        classes=np.array(model.classes_, dtype=str),
    )


def _accuracy(classifier: Classifier, texts: list[str], labels: list[str]) -> dict[str, float]:
    probabilities = classifier.probabilities(texts)
    top = np.argsort(-probabilities, axis=1)[:, :TOP]
    predicted = classifier.classes[top]
    truth = np.array(labels)
    return {
        "top1": round(float((predicted[:, 0] == truth).mean()), 4),
        "top3": round(float((predicted == truth[:, None]).any(axis=1).mean()), 4),
        "holdout": len(labels),
    }


def industry_model_train(*, max_samples: int = MAX_SAMPLES, seed: int = 0) -> IndustryModel | None:
    """Train on enterprises' business scopes, measure on a held-out fifth, refit on all, store a version."""
    texts, labels = _training_rows(max_samples, seed)
    if len(set(labels)) < 2:
        return None
    accuracy: dict[str, float] = {}
    if len(texts) >= 50:
        train_texts, test_texts, train_labels, test_labels = train_test_split(
            texts, labels, test_size=HOLDOUT, random_state=seed, stratify=labels
        )
        accuracy = _accuracy(_classifier(0, *_fit(train_texts, train_labels)), test_texts, test_labels)
    vectorizer, model = _fit(texts, labels)
    classifier = _classifier(0, vectorizer, model)
    buffer = io.BytesIO()
    np.savez_compressed(
        buffer,
        vocabulary=classifier.vocabulary,
        idf=classifier.idf,
        coef=classifier.coef,
        intercept=classifier.intercept,
        classes=classifier.classes,
    )
    with transaction.atomic():
        version = (IndustryModel.objects.select_for_update().aggregate(v=Max("version"))["v"] or 0) + 1
        row = IndustryModel(
            version=version,
            created_at=timezone.now(),
            samples=len(texts),
            classes=len(classifier.classes),
            accuracy=accuracy,
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
        Suggestion(code=code, name=names.get(code, ""), probability=round(float(probabilities[i]), 4))
        for code, i in zip(codes, best.tolist(), strict=True)
    ]
