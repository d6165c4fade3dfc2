"""The race record is structured (``end``, ``twin``) and older files' sentences still read."""

from __future__ import annotations

from gctune.store.race import (
    DECIDED,
    ENDS,
    FAILED,
    IDENTICAL,
    OTHER,
    OUT,
    ROUND_CAP,
    Stop,
    race_stop,
)


def test_a_structured_record_reads_back_as_written() -> None:
    for end in ENDS:
        stop = Stop(end, f"why {end}", "t7000" if end == IDENTICAL else None)
        assert race_stop({"rounds": 3, **stop.fields()}) == stop
    # the kind written wins over the words: a decision sentence need not say "decided after"
    written = Stop(DECIDED, "decision rounds ended after round 5")
    assert race_stop(written.fields()) == written


def test_older_sentences_read_as_they_were_read_then() -> None:
    def end(text: str) -> str:
        stop = race_stop({"rounds": 3, "stopped": text})
        assert stop is not None and stop.text == text
        return stop.end

    text = "out after round 3: no collection in any span, the same GC work as t7000 (still ..."
    assert race_stop({"stopped": text}) == Stop(IDENTICAL, text, "t7000")
    assert end("out after round 4: time 1.10x of t7000's [1.05, 1.15], slower ...") == OUT
    assert end("decided after round 5: t7000 beats default by at least 2% ...") == DECIDED
    assert end("still undecided after round 9: t7000 0.97x ...") == DECIDED
    assert end("not decided after round 3: t7000 0.83x ...") == DECIDED
    assert end("round cap (8 rounds)") == ROUND_CAP
    assert end("failed") == FAILED
    assert end("leader t7000 separated after round 4") == OTHER
    assert race_stop({"rounds": 2, "stopped": None}) is None
    assert race_stop(None) is None
    assert race_stop({"stopped": "failed", "end": "no such kind"}) == Stop(FAILED, "failed")
