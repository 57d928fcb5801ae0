"""A bot reply checked against the moderation lists while it streams (as guard.CanaryFilter checks it for the
canary): no blocked term reaches the customer, not even its first letters.

Each piece is checked together with the text held back before it, and the end of the text that could still
become a stopping term ("fra" of "fraud", "傻" of "傻逼", a whole "fraud" whose word may go on as "fraudulent")
is held back until the next piece says; a term split across pieces at any position is therefore seen whole
before any of it is released. Ordinary text goes out at once. Only the part not yet released is normalised and
searched per piece, so a long reply costs linear time; at the end the whole reply is searched once more, for
the record (sensitive terms, flags) and for patterns longer than the hold.
"""

from __future__ import annotations

from .matching import Match, Matcher, normalise


class ModerationFilter:
    """Passes streamed text on, holding back what could begin a stopping term. Once one is seen, `tripped` is
    that match and nothing more comes out. `matches` are every term found (after `finish`, in the whole reply)."""

    def __init__(self, matcher: Matcher | None, *, language: str | None = None, pattern_hold: int = 0) -> None:
        self.matcher = matcher
        self.language = language
        self.pattern_hold = pattern_hold
        self.text = ""
        self.released = 0
        self.tripped: Match | None = None
        self.matches: list[Match] = []

    def feed(self, piece: str) -> str:
        if self.tripped is not None:
            return ""
        self.text += piece
        return self._release(final=False)

    def finish(self) -> str:
        """The rest of the reply at its end (or when it stops early), unless it holds a stopping term."""
        if self.tripped is not None:
            return ""
        tail = self._release(final=True)
        if self.matcher is not None and self.tripped is None:
            self.matches = self.matcher.find(self.text, language=self.language)
            stopping = [match for match in self.matches if match.term.stops]
            if stopping:  # a pattern longer than the hold: the reply is withdrawn all the same
                self.tripped = stopping[0]
                return ""
        return tail

    def _release(self, *, final: bool) -> str:
        if self.matcher is None:
            out, self.released = self.text[self.released :], len(self.text)
            return out
        # One character of what was released comes along: whether a word boundary comes before the new text.
        context = max(0, self.released - 1)
        window = self.text[context:]
        since = self.released - context
        normalised = normalise(window)
        found = self.matcher.find_normalised(window, normalised, language=self.language, final=final, since=since)
        stopping = [match for match in found if match.term.stops]
        if stopping:
            first = stopping[0]
            self.tripped = Match(first.term, first.start + context, first.end + context)
            self.matches = [self.tripped]
            return ""
        cut = (
            len(window)
            if final
            else self.matcher.held_from(window, normalised, since=since, pattern_hold=self.pattern_hold)
        )
        out = window[since:cut]
        self.released = context + cut
        return out
