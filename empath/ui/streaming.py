"""The streaming loop shared by Chat and Compare: start a turn, show the reply as it grows in a chat history,
and turn failures into a "⚠️ …" message instead of an exception, so that the conversation and the typed text
are kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import gradio as gr

from empath.pipeline import InputError, TurnResult
from empath.ui.panels import shown

REFUSED, FIRST, STREAMING, FINAL = "refused", "first", "streaming", "final"


@dataclass
class ReplyUpdate:
    """One step of a streamed reply."""

    stage: str  # REFUSED (the message was not accepted), FIRST, STREAMING or FINAL
    history: list[dict]  # the chat history to show: unchanged when REFUSED, else with this turn at its end
    result: TurnResult | None = None  # None when REFUSED
    problem: str = ""  # "⚠️ …": why the message was refused (REFUSED) or the reply failed (FINAL)


def stream_reply(start: Callable[[], Iterator[TurnResult]], text: str, history: list | None, *, blind: bool = False,
                 contain_failures: bool = False) -> Iterator[ReplyUpdate]:
    """Runs ``start()`` (a pipeline stream for ``text``) and yields the chat history as the reply grows.

    A refused message (bad input, an unknown persona, bad settings) yields one REFUSED update and a warning toast.
    ``contain_failures``: any other exception becomes a failed reply in this history instead of an error, for
    systems (other models, remote servers) that may fail in any way while the other side still answers.
    ``blind``: replies without strategy tags (Compare, before the vote)."""
    history = list(history or [])
    try:
        stream = start()
        result = next(stream)
    except (InputError, KeyError, ValueError) as exc:
        problem = f"⚠️ {exc.args[0] if isinstance(exc, KeyError) else exc}"  # a KeyError's str() adds quotes
        gr.Warning(problem)
        yield ReplyUpdate(REFUSED, history, problem=problem)
        return
    except Exception as exc:  # noqa: BLE001 - only where the caller asked for it
        if not contain_failures:
            raise
        result = failed(text, exc)
    history = history + [{"role": "user", "content": result.message},
                         {"role": "assistant", "content": shown(result, blind)}]
    yield ReplyUpdate(FIRST, history, result)
    try:
        for result in stream if not result.error else ():  # only the reply changes while tokens stream in
            history[-1] = {"role": "assistant", "content": shown(result, blind)}
            yield ReplyUpdate(STREAMING, history, result)
    except Exception as exc:  # noqa: BLE001 - as above
        if not contain_failures:
            raise
        result.error = failed(text, exc).error
        history[-1] = {"role": "assistant", "content": shown(result, blind)}
    yield ReplyUpdate(FINAL, history, result, problem=f"⚠️ {result.error}" if result.error else "")


def failed(text: str, exc: BaseException) -> TurnResult:
    """A turn whose generation raised ``exc``."""
    return TurnResult(message=text, lang="", error=f"generation failed: {type(exc).__name__}: {exc}")
