"""Durations on the command line: 30s, 2m, 1m30s or plain seconds (light: usage errors need it)."""

from __future__ import annotations

from mlgate.infra.errors import MlgateError


def parse_duration(text: str, flag: str = "--run-time") -> float:
    """'30s', '2m', '1m30s' or plain seconds."""
    text = text.strip().lower()
    try:
        if text.replace(".", "", 1).isdigit():
            return float(text)
        total, number = 0.0, ""
        for char in text:
            if char.isdigit() or char == ".":
                number += char
            elif char in "hms" and number:
                total += float(number) * {"h": 3600, "m": 60, "s": 1}[char]
                number = ""
            else:
                raise ValueError(char)
        if number:
            raise ValueError(number)
        return total
    except ValueError as exc:
        raise MlgateError(f"{flag}: {text!r} is not a duration; write it like 30s, 2m or 1m30s") from exc
