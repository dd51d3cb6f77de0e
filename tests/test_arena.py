import pytest

from empath.arena import CRITERIA, VoteStore


def test_nothing_is_written_without_a_vote(tmp_path):
    store = VoteStore(tmp_path / "votes.sqlite")
    assert store.leaderboard() == [] and store.count() == 0
    assert not (tmp_path / "votes.sqlite").exists()


def test_votes_persist_and_leaderboard_counts(tmp_path):
    path = tmp_path / "votes.sqlite"
    store = VoteStore(path)
    comparison = {"messages": ["hi"], "replies_a": ["a"], "replies_b": ["b"]}
    assert store.record("Empath", "Base model", {c: "A" for c in CRITERIA}, comparison) == 5
    store.record("Base model", "Empath", {"Fluency": "Tie", "Empathy": "A"}, comparison)
    reopened = VoteStore(path)  # a new process sees the same votes
    assert reopened.count() == 7
    board = {row["system"]: row for row in reopened.leaderboard()}
    empath, base = board["Empath"], board["Base model"]
    assert (empath["comparisons"], empath["criterion_votes"]) == (2, 7)  # one vote on 5 criteria is 1 comparison
    assert (empath["wins"], empath["losses"], empath["ties"]) == (5, 1, 1)
    assert empath["win_rate"] == pytest.approx((5 + 0.5) / 7, abs=1e-3)
    assert base["win_rate"] == pytest.approx((1 + 0.5) / 7, abs=1e-3)
    assert empath["Empathy"] == pytest.approx(0.5) and empath["Fluency"] == pytest.approx(0.75)
    assert reopened.leaderboard()[0]["system"] == "Empath"


@pytest.mark.parametrize("votes,match", [
    ({"Fluency": "C"}, "one of A, B, Tie"), ({"Charm": "A"}, "unknown criteria"), ({"Fluency": None}, "at least one"),
])
def test_invalid_votes_are_refused(tmp_path, votes, match):
    store = VoteStore(tmp_path / "v.sqlite")
    with pytest.raises(ValueError, match=match):
        store.record("Empath", "Base model", votes, {})
    assert store.count() == 0


def test_same_system_twice_is_refused(tmp_path):
    with pytest.raises(ValueError, match="two different"):
        VoteStore(tmp_path / "v.sqlite").record("Empath", "Empath", {"Fluency": "A"}, {})


def test_votes_stored_before_ballots_still_count_as_comparisons(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as conn:  # the schema before the ballot column
        conn.execute("CREATE TABLE votes (id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, system_a TEXT "
                     "NOT NULL, system_b TEXT NOT NULL, criterion TEXT NOT NULL, choice TEXT NOT NULL, comparison TEXT "
                     "NOT NULL)")
        conn.executemany("INSERT INTO votes (created, system_a, system_b, criterion, choice, comparison) VALUES "
                         "(?, ?, ?, ?, ?, ?)", [(1.0, "Empath", "Base model", c, "A", '{"m": 1}') for c in CRITERIA])
    store = VoteStore(path)
    store.record("Empath", "Base model", {"Fluency": "B"}, {"m": 2})
    board = {row["system"]: row for row in store.leaderboard()}
    assert (board["Empath"]["comparisons"], board["Empath"]["criterion_votes"]) == (2, 6)
