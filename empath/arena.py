"""Side-by-side comparison votes (the paper's Figure 18 criteria) in a local SQLite file, and a leaderboard.

Nothing is written unless a user votes: a vote is the user's request to store that comparison.
Path: ``EMPATH_VOTES_DB`` (default ``~/.cache/empath/votes.sqlite``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path

CRITERIA = ("Fluency", "Role Alignment", "Skillfulness", "Empathy", "Helpfulness")
CHOICES = ("A", "B", "Tie")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    system_a TEXT NOT NULL,
    system_b TEXT NOT NULL,
    criterion TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('A', 'B', 'Tie')),
    comparison TEXT NOT NULL,  -- JSON: the seeker messages and both systems' replies
    ballot TEXT  -- one id per submitted vote (a comparison judged on up to 5 criteria = up to 5 rows)
);
"""


def default_db_path() -> Path:
    from .hub import cache_dir

    return Path(os.environ.get("EMPATH_VOTES_DB") or cache_dir() / "votes.sqlite")


class VoteStore:
    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path or default_db_path())
        self._lock = threading.Lock()
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        if not self._ready:  # created lazily: an app nobody votes in leaves no file behind
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path)
        if not self._ready:
            conn.executescript(_SCHEMA)
            columns = {row[1] for row in conn.execute("PRAGMA table_info(votes)")}
            if "ballot" not in columns:  # a file from before ballots: its rows are grouped by comparison text
                conn.execute("ALTER TABLE votes ADD COLUMN ballot TEXT")
                conn.commit()
            self._ready = True
        return conn

    def record(self, system_a: str, system_b: str, votes: dict[str, str], comparison: dict) -> int:
        """Store one vote per criterion; returns the number of rows written."""
        if system_a == system_b:
            raise ValueError("a comparison needs two different systems")
        unknown = set(votes) - set(CRITERIA)
        if unknown:
            raise ValueError(f"unknown criteria {sorted(unknown)}; valid: {', '.join(CRITERIA)}")
        created, ballot = time.time(), uuid.uuid4().hex
        rows = [(created, system_a, system_b, c, v, json.dumps(comparison, ensure_ascii=False), ballot)
                for c, v in votes.items() if v]
        bad = [v for *_x, v, _j, _b in rows if v not in CHOICES]
        if bad:
            raise ValueError(f"a vote must be one of {', '.join(CHOICES)}, got {bad[0]!r}")
        if not rows:
            raise ValueError("choose A, B or Tie for at least one criterion before submitting")
        with self._lock, closing(self._connect()) as conn, conn:
            conn.executemany("INSERT INTO votes (created, system_a, system_b, criterion, choice, comparison, ballot) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        return len(rows)

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._lock, closing(self._connect()) as conn:
            return conn.execute("SELECT COUNT(*) FROM votes").fetchone()[0]

    def leaderboard(self) -> list[dict]:
        """Per system: ``comparisons`` (submitted votes it took part in) and ``criterion_votes`` (one per criterion
        judged in them), with wins, losses, ties and the win rate (ties count half) over criterion votes, overall
        and per criterion."""
        if not self.path.exists():
            return []
        with self._lock, closing(self._connect()) as conn:
            rows = conn.execute("SELECT system_a, system_b, criterion, choice, "
                                "COALESCE(ballot, system_a || '|' || system_b || '|' || comparison) FROM votes").fetchall()
        stats: dict[str, dict] = {}
        for a, b, criterion, choice, ballot in rows:
            for system, won, lost in ((a, choice == "A", choice == "B"), (b, choice == "B", choice == "A")):
                s = stats.setdefault(system, {"system": system, "ballots": set(), "criterion_votes": 0, "wins": 0,
                                              "losses": 0, "ties": 0, "by_criterion": {c: [0.0, 0] for c in CRITERIA}})
                s["ballots"].add(ballot)
                s["criterion_votes"] += 1
                s["wins"] += won
                s["losses"] += lost
                s["ties"] += not (won or lost)
                s["by_criterion"][criterion][0] += 1.0 if won else (0.0 if lost else 0.5)
                s["by_criterion"][criterion][1] += 1
        board = []
        for s in stats.values():
            row = {"system": s["system"], "comparisons": len(s["ballots"]),
                   **{k: s[k] for k in ("criterion_votes", "wins", "losses", "ties")}}
            row["win_rate"] = round((s["wins"] + 0.5 * s["ties"]) / s["criterion_votes"], 3)
            for c, (points, n) in s["by_criterion"].items():
                row[c] = round(points / n, 3) if n else None
            board.append(row)
        return sorted(board, key=lambda r: (-r["win_rate"], -r["comparisons"]))
