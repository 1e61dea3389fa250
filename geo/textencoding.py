"""Text encodings of files from Vietnamese offices: UTF-8 and the legacy Windows code page 1258.

Files typed in district offices reach us as UTF-8 (current Excel "CSV UTF-8", QGIS), as Windows-1258
(older Excel "CSV", ArcGIS shapefiles written on a Vietnamese Windows) or as shapefiles with no ``.cpg``
at all, which GDAL then reads as ISO-8859-1: "Phường 11" becomes "PhÆ°á»ng 11". The rule here is the
one a person would apply: bytes that decode as UTF-8 *and* read as Vietnamese are UTF-8; otherwise the
legacy code page is tried, and the first candidate whose text reads as Vietnamese wins. Text that reads
as Vietnamese in no candidate is refused rather than stored garbled.

"Reads as Vietnamese" (:func:`garbled_characters`) means, after Unicode NFC composition (Windows-1258
writes tone marks as separate combining characters), every character is ASCII, a letter of the
Vietnamese alphabet with its diacritics (Nguyễn 2001, *Vietnamese*, §2; TCVN 6909:2001 repertoire),
or common typographic punctuation. Mojibake always contains characters outside that set: decoding
UTF-8 bytes as a single-byte code page yields the continuation bytes 0x80–0xBF as symbols such as
``°``, ``»``, ``¡``, ``Æ``.

The font encodings TCVN3 (ABC) and VNI are not code pages (Python and GDAL know none); such files are
refused with the advice to convert them to Unicode first (Unikey's converter does it).
"""
from __future__ import annotations

import codecs
import unicodedata

from geo.errors import GeoInputError
from translations import message

#: Encodings tried, in order, when a file does not declare one.
DETECTED_ENCODINGS = ("utf-8", "cp1258")

#: Names shown to users (Python's codec name -> the usual name).
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "cp1258": "Windows-1258"}

_VIETNAMESE_LOWER = ("àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ")
_VIETNAMESE_LETTERS = frozenset(_VIETNAMESE_LOWER + _VIETNAMESE_LOWER.upper())
_PUNCTUATION = frozenset("\u00a0–—…‘’“”«»·")


def encoding_name(encoding: str) -> str:
    """The usual name of a Python codec (``cp1258`` -> ``Windows-1258``), for messages and reports."""
    try:
        canonical = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return ENCODING_NAMES.get(canonical, canonical)


def check_encoding(encoding: str, argument: str = "encoding") -> str:
    """Return the canonical codec name of ``encoding``, or raise naming ``argument`` and the usual choices."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise GeoInputError(message("geo.textencoding.encoding_python_knows_use", argument=argument,
                                    encoding=encoding)) from None


def garbled_characters(text: str) -> str:
    """The characters of ``text`` that no Vietnamese or ASCII text contains, in order of appearance.

    Empty for clean Vietnamese (``"Phường 11"``); ``"Æ°»"`` for its mojibake ``"PhÆ°á»ng 11"``.
    Controls other than tab and newline count as garbled too.
    """
    seen: list[str] = []
    for ch in unicodedata.normalize("NFC", str(text)):
        ok = (" " <= ch <= "~") or ch in "\t\r\n" or ch in _VIETNAMESE_LETTERS or ch in _PUNCTUATION
        if not ok and ch not in seen:
            seen.append(ch)
    return "".join(seen)


def decode_vietnamese(data: bytes, encoding: str | None = None, *, what: str = "the file",
                      argument: str = "encoding", strict_text: bool = False) -> tuple[str, str]:
    """Decode ``data`` and say how: ``(text NFC, codec name)``.

    Parameters
    ----------
    data : bytes
    encoding : str, optional
        Given by the user: used as is. Otherwise a UTF-8 byte-order mark means UTF-8, else the first of
        :data:`DETECTED_ENCODINGS` that decodes the bytes — UTF-8 as soon as it decodes (its multi-byte
        structure does not happen by chance), Windows-1258 (which decodes almost any bytes) only when its
        text reads as Vietnamese.
    what : str
        Names the input in messages (``"path 'x.csv'"``).
    argument : str
        The option that chooses the encoding (``--encoding``), named in messages.
    strict_text : bool
        Require every candidate, UTF-8 and a given encoding included, to read as Vietnamese (for names,
        such as those of a boundary file; free-text descriptions may hold any character).

    Raises
    ------
    GeoInputError
        No candidate gives Vietnamese text, or the given encoding does not decode the bytes or gives
        garbled text; the message shows the characters that look wrong.
    """
    if encoding is not None:
        codec = check_encoding(encoding, argument)
        try:
            text = unicodedata.normalize("NFC", data.decode(codec))
        except UnicodeDecodeError as exc:
            raise GeoInputError(message("geo.textencoding.text_byte_check", what=what,
                                        encoding_name=encoding_name(codec), exc_reason=exc.reason,
                                        exc_start=exc.start, argument=argument)) from None
        bad = garbled_characters(text) if strict_text else ""
        if bad:
            raise GeoInputError(message("geo.textencoding.decoded_contains_characters_that", what=what,
                                        encoding_name=encoding_name(codec), bad=bad[:12], argument=argument))
        return text, codec
    if data.startswith(codecs.BOM_UTF8):
        return unicodedata.normalize("NFC", data[len(codecs.BOM_UTF8):].decode("utf-8", errors="strict")), \
            "utf-8-sig"
    tried = []
    for codec in DETECTED_ENCODINGS:
        try:
            text = unicodedata.normalize("NFC", data.decode(codec))
        except UnicodeDecodeError:
            tried.append(f"{encoding_name(codec)}: not decodable")
            continue
        bad = garbled_characters(text) if (strict_text or codec != "utf-8") else ""
        if not bad:
            return text, codec
        tried.append(f"{encoding_name(codec)}: gives {bad[:8]!r}")
    raise GeoInputError(message("geo.textencoding.neither_utf_nor_windows", what=what, tried='; '.join(tried),
                                argument=argument))


def detect_among(samples: list[bytes], encoding: str | None = None, *, what: str = "the file",
                 argument: str = "encoding") -> str:
    """The codec for a set of names (the text fields of a shapefile): :func:`decode_vietnamese` with
    ``strict_text``."""
    joined = b"\n".join(samples)
    return decode_vietnamese(joined, encoding, what=what, argument=argument, strict_text=True)[1]


#: Field separators a CSV may use; the one found most often in the header line is taken.
CSV_DELIMITERS = (",", ";", "\t", "|")


def csv_delimiter(header_line: str) -> str:
    """The separator of a CSV from its header line: the most frequent of :data:`CSV_DELIMITERS`.

    The header is used, not the data, because data cells hold decimal commas (``105,63``) in files
    saved by a Vietnamese-locale Excel, which writes ``;`` between fields for that reason. A header of
    one column gives ``","``.
    """
    counts = [(header_line.count(d), -i, d) for i, d in enumerate(CSV_DELIMITERS)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","
