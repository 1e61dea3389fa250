"""Files as Vietnamese offices write them, built in the tests (legacy encodings)."""
from __future__ import annotations

_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def encode_cp1258(text: str) -> bytes:
    """Encode as Windows does for code page 1258: a letter with a tone mark it has no single byte for is
    written as the base letter (â, ơ, … are single bytes) followed by the combining tone mark."""
    import unicodedata

    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tone = "".join(c for c in parts if c in _TONE_MARKS)
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONE_MARKS))
            out += (base + tone).encode("cp1258")
    return bytes(out)
