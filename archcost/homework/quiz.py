"""``archcost quiz``: read a key and a roster, write each student's sheet (see :mod:`.variants`)."""

from __future__ import annotations

import json
import os

from ..errors import SpecError, short_repr
from .answers import load_answers
from .variants import _file_name, read_roster, sheet, sheet_markdown


def write_sheets(key: str, roster: str, out_dir: str) -> list:
    """Write ``<id>.md`` and ``<id>.json`` per student of ``roster`` into ``out_dir``; the paths written."""
    af = load_answers(key)
    if not any(q.vary for q in af.questions):
        raise SpecError(f"{key} has no question with `vary:`", file=key,
                        fix="add e.g. `vary: {out_channels: [16, 32, 64]}` to a question (see the README, Variants).")
    students = read_roster(roster)
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as e:
        raise SpecError(f"cannot create {out_dir}: {e.strerror}", fix="choose a writable folder with -o.") from None
    written, names = [], {}
    for sid, name in students:
        fname = _file_name(sid)
        if fname in names:
            raise SpecError(f"students {short_repr(names[fname])} and {short_repr(sid)} would share the file "
                            f"{fname}.md", file=roster, fix="give them ids that differ in letters or digits.")
        names[fname] = sid
        d = sheet(af, sid, name)
        for ext, text in (("json", json.dumps(d, indent=2, ensure_ascii=False) + "\n"), ("md", sheet_markdown(d))):
            path = os.path.join(out_dir, f"{fname}.{ext}")
            try:
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(text)
            except OSError as e:
                raise SpecError(f"cannot write {path}: {e.strerror}", fix="choose a writable folder with -o.") from None
            written.append(path)
    return written
