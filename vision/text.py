"""The text on a product: read with OCR, folded to plain words, and matched against the words each
category's references show (and its descriptions), as a second signal beside the visual vote.

OCR is RapidOCR with the PP-OCRv6 models inside its wheel (nothing is downloaded), run by
onnxruntime; bench/README.md compares it with the other installable engines. Words are folded to
ASCII lower case ("MJÖLK" and "mjolk" are one word) and kept from 3 letters up. Matching is by
character n-grams (TF-IDF), so that a word read with a letter missing still matches
("vanil" ~ "vanilj"). `python -m vision.read_text` reads a whole folder tree.
"""

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from wordfreq import zipf_frequency

ENGINE = "rapidocr-3.10.0:PP-OCRv6-small"
# Below this recognition score a read is mostly noise (stray strokes read as letters).
MIN_SCORE = 0.6
MIN_LETTERS = 3
# A suggested title: the words of the largest print read with confidence, brand and product
# name first on nearly every package.
TITLE_MIN_SCORE = 0.8
TITLE_WORDS = 4
# OCR reads a logo or a slogan in a fancy face as "Crpulet" or "Betacla", as confidently as a
# true word: a suggested title keeps, and the text shown keeps lines of, only words of the
# catalogue's languages (wordfreq's lists, which hold brands too: Arla, Tropicana, Alpro), at
# least this common (Zipf: about once in 100 million words). bench/README.md, "Suggested titles".
TEXT_LANGUAGES = ("sv", "en")
MIN_WORD_FREQUENCY = 1.0


def words_of(text):
    """Plain words of a text: ASCII lower case, 3 letters or more, in order."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(rf"[a-z]{{{MIN_LETTERS},}}", folded)


class Line(NamedTuple):
    """A line of text read on an image."""

    text: str
    score: float  # the recognition's confidence, 0–1
    box: tuple  # (left, top, right, bottom) in image pixels


class TextReader:
    """Reads the text on an image. The OCR models load on first use, once per reader."""

    version = ENGINE

    def __init__(self, threads=None):
        self.threads = threads  # onnxruntime's intra-op threads; None: its default (every core)
        self._engine = None

    def read(self, image):
        """[Line] read on a PIL image, in reading order."""
        if self._engine is None:
            from rapidocr import RapidOCR

            params = {"Global.log_level": "error"}
            if self.threads:
                params["EngineConfig.onnxruntime.intra_op_num_threads"] = self.threads
            self._engine = RapidOCR(params=params)
        result = self._engine(np.asarray(image.convert("RGB"))[:, :, ::-1])  # the engine takes BGR
        boxes = result.boxes if result.boxes is not None else ()
        return [Line(text, round(float(score), 3), _bounds(corners))
                for text, score, corners in zip(result.txts or (), result.scores or (), boxes)]


def _bounds(corners):
    xs, ys = [float(x) for x, _ in corners], [float(y) for _, y in corners]
    return (round(min(xs)), round(min(ys)), round(max(xs)), round(max(ys)))


def words_read(lines, min_score=MIN_SCORE):
    """The words of the lines read (Lines, or [text, score, ...] as stored), those read with a low
    score left out."""
    return [word for line in lines if line[1] >= min_score for word in words_of(line[0])]


def lines_within(lines, box):
    """The lines whose centre lies in `box` (left, top, right, bottom): the text on one item."""
    left, top, right, bottom = box
    return [line for line in lines
            if left <= (line.box[0] + line.box[2]) / 2 <= right and top <= (line.box[1] + line.box[3]) / 2 <= bottom]


@lru_cache(maxsize=100_000)
def is_word(word, languages=TEXT_LANGUAGES):
    """Whether `word` is a word of one of the languages (a brand name among them), not an OCR misreading."""
    return max(zipf_frequency(word.lower(), language) for language in languages) >= MIN_WORD_FREQUENCY


def _letter_words(text):
    return re.findall(r"[^\W\d_]{3,}", text)


def is_readable(text, score, languages=TEXT_LANGUAGES):
    """Whether a line read ([text, score]) is text a person would read on the product: read with
    confidence, and every word of it a word of the languages (not "Katanlige gad fin dig")."""
    words = _letter_words(text)
    return score >= MIN_SCORE and bool(words) and all(is_word(word, languages) for word in words)


def suggest_title(lines, languages=TEXT_LANGUAGES):
    """A listing title from the text on the product: the words of the languages in its largest
    print read with confidence, in capitals only at the start ("Yoggi Original Vanilj"); "" when
    there is none."""
    confident = sorted((line for line in lines if line.score >= TITLE_MIN_SCORE),
                       key=lambda line: line.box[3] - line.box[1], reverse=True)
    words, seen = [], set()
    for line in confident:
        for word in _letter_words(line.text):
            if word.lower() not in seen and is_word(word, languages):
                seen.add(word.lower())
                words.append(word.capitalize())
    return " ".join(words[:TITLE_WORDS])


class TextProfiles:
    """The words each category's references show (and its descriptions), as character n-gram
    TF-IDF vectors: a word many categories show (a brand, "juice") weighs little, one only a few
    show ("vanilj", "blodgrape") much."""

    def __init__(self, words_by_category):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.categories = [category for category, words in words_by_category.items() if words]
        self._vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        documents = [" ".join(words_by_category[category]) for category in self.categories]
        self._profiles = self._vectorizer.fit_transform(documents) if documents else None

    @classmethod
    def of_references(cls, references):
        """The profiles of (category, words read on it) pairs, one per reference photo."""
        words_by_category = defaultdict(list)
        for category, words in references:
            words_by_category[category] += words
        return cls(words_by_category)

    def similarities(self, words):
        """{category: cosine similarity in [0, 1]} of the words read on an item to each profile;
        {} when nothing was read (nothing to compare)."""
        if not words or self._profiles is None:
            return {}
        scores = (self._profiles @ self._vectorizer.transform([" ".join(words)]).T).toarray().ravel()
        return {category: float(score) for category, score in zip(self.categories, scores) if score > 0}
