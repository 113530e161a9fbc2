"""The `filter` / `query` grammar of the Cloud Support API: a subset of AIP-160.

    state=OPEN AND (priority=P1 OR priority=P2) AND creator.email="a@b.example"
    "mail delayed" update_time>"2024-01-01T00:00:00+09:00"
    display_name:"*Gmail*"

Restrictions are joined by `AND` (or by plain juxtaposition), `OR` and `NOT`, grouped
with parentheses; as in AIP-160, `OR` binds tighter than `AND`. A bare value with no
field is a *global restriction*: full text over the case's title, description and
comments. Parsing is pure (no database): `compile_case_filter` turns the tree into a
`Q` plus the full-text terms, which the selectors apply through `case_keyword_filter`.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from cases.models import Case
from portal.errors import InvalidInput

MAX_QUERY_LENGTH = 2000
MAX_DEPTH = 20
MAX_TERMS = 50


class QueryError(InvalidInput):
    """A `filter` or `query` that does not parse or names what cannot be filtered on."""


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Restriction:
    field: str
    op: str
    value: str
    quoted: bool


@dataclass(frozen=True)
class Text:
    """A global restriction: a value with no field."""

    value: str


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<op>>=|<=|!=|=|>|<|:)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<word>[^\s()=<>!:"]+)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def tokenize(text: str) -> list[_Token]:
    tokens = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QueryError(
                _("The query has an unexpected character at position %(position)d.")
                % {"position": position + 1}
            )
        kind = match.lastgroup
        if kind != "space":
            value = match.group()
            if kind == "word" and value in {"AND", "OR", "NOT"}:
                kind = value
            tokens.append(_Token(kind, value, position))
        position = match.end()
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, tokens: list[_Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.terms = 0

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.index + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def error(self, token: _Token | None) -> QueryError:
        if token is None:
            return QueryError(_("The query ends too early."))
        return QueryError(
            _("The query cannot be read at “%(token)s” (position %(position)d).")
            % {"token": token.text[:40], "position": token.position + 1}
        )

    def parse(self):
        if not self.tokens:
            return None
        tree = self.expression()
        if self.peek() is not None:
            raise self.error(self.peek())
        return tree

    def expression(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise QueryError(_("The query nests too deeply."))
        parts = [self.sequence()]
        while self.peek() is not None and self.peek().kind == "AND":
            self.take()
            parts.append(self.sequence())
        self.depth -= 1
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def sequence(self):
        # Juxtaposed factors are joined by AND (AIP-160's "sequence").
        parts = [self.factor()]
        while self.peek() is not None and self.peek().kind in {"lparen", "word", "string", "NOT"}:
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def factor(self):
        parts = [self.term()]
        while self.peek() is not None and self.peek().kind == "OR":
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def term(self):
        token = self.peek()
        if token is not None and token.kind == "NOT":
            self.take()
            return Not(self.simple())
        return self.simple()

    def simple(self):
        token = self.peek()
        if token is None:
            raise self.error(None)
        if token.kind == "lparen":
            self.take()
            inner = self.expression()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise QueryError(_("A parenthesis in the query is not closed."))
            self.take()
            return inner
        if token.kind not in {"word", "string"}:
            raise self.error(token)
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(_("The query has too many terms."))
        self.take()
        operator = self.peek()
        if operator is not None and operator.kind == "op":
            if token.kind != "word":
                raise self.error(operator)
            self.take()
            value = self.peek()
            if value is None or value.kind not in {"word", "string"}:
                raise self.error(value)
            self.take()
            quoted = value.kind == "string"
            return Restriction(
                field=token.text,
                op=operator.text,
                value=_unquote(value.text) if quoted else value.text,
                quoted=quoted,
            )
        return Text(_unquote(token.text) if token.kind == "string" else token.text)


def parse(text: str | None):
    """The tree of a filter expression, or None when it is empty."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(_("The query can be at most %(n)d characters long.") % {"n": MAX_QUERY_LENGTH})
    return _Parser(tokenize(text)).parse()


# --------------------------------------------------------------------------- cases

_FIELD_ALIASES = {
    "state": "state",
    "priority": "priority",
    "creator.email": "creator.email",
    "update_time": "update_time",
    "updateTime": "update_time",
    "organization": "organization",
}
OPEN = "OPEN"
PRIORITIES = ("P0", "P1", "P2", "P3", "P4")


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise QueryError(
            _("“%(value)s” is not a date and time in ISO 8601 form, e.g. 2024-01-31T09:00:00+09:00.")
            % {"value": value[:40]}
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _case_restriction(node: Restriction, *, search: bool) -> Q:
    field = _FIELD_ALIASES.get(node.field)
    known = ["state", "priority", "creator.email"] + (["update_time", "organization"] if search else [])
    if field is None or field not in known:
        raise QueryError(
            _("Cases cannot be filtered on “%(field)s”. Use one of: %(fields)s.")
            % {"field": node.field[:40], "fields": ", ".join(known)}
        )
    if field == "update_time":
        if node.op != ">":
            raise QueryError(_("update_time supports only the “>” operator."))
        return Q(updated_at__gt=_parse_time(node.value))
    if node.op != "=":
        raise QueryError(_("%(field)s supports only the “=” operator.") % {"field": field})
    value = node.value.strip()
    if field == "state":
        if value == OPEN:
            return ~Q(state=Case.State.CLOSED)
        if value in Case.State.values:
            return Q(state=value)
        raise QueryError(
            _("state can be OPEN, CLOSED or one of %(states)s.") % {"states": ", ".join(Case.State.values)}
        )
    if field == "priority":
        if value not in PRIORITIES:
            raise QueryError(_("priority can be P0, P1, P2, P3 or P4."))
        return Q(priority=value)
    if field == "organization":
        match = re.fullmatch(r"organizations/(\d{1,18})", value)
        if match is None:
            raise QueryError(_("organization takes a name of the form organizations/{customer id}."))
        return Q(customer_id=int(match.group(1)))
    if not value or len(value) > 254:
        raise QueryError(_("creator.email needs an email address."))
    return Q(creator__email=value.lower())


def _case_q(node, *, search: bool) -> Q:
    if isinstance(node, Restriction):
        return _case_restriction(node, search=search)
    if isinstance(node, Text):
        raise QueryError(
            _("Free text can only be combined with AND; “%(text)s” is inside OR or NOT.")
            % {"text": node.value[:40]}
        )
    if isinstance(node, Not):
        return ~_case_q(node.part, search=search)
    combined = None
    for part in node.parts:
        q = _case_q(part, search=search)
        if combined is None:
            combined = q
        elif isinstance(node, And):
            combined &= q
        else:
            combined |= q
    return combined


@dataclass(frozen=True)
class CaseFilter:
    q: Q
    texts: tuple[str, ...]


def compile_case_filter(text: str | None, *, search: bool) -> CaseFilter:
    """`filter` of cases.list (search=False) or `query` of cases.search (search=True).
    Full text and update_time are search-only, as in Google's API."""
    tree = parse(text)
    if tree is None:
        return CaseFilter(Q(), ())
    top = tree.parts if isinstance(tree, And) else (tree,)
    texts = []
    q = Q()
    for node in top:
        if isinstance(node, Text):
            if not search:
                raise QueryError(
                    _("Free text is allowed in cases.search only; cases.list filters on fields: “%(text)s”.")
                    % {"text": node.value[:40]}
                )
            if node.value.strip():
                texts.append(node.value)
        else:
            q &= _case_q(node, search=search)
    return CaseFilter(q, tuple(texts))


# --------------------------------------------------------------------------- classifications


def _pattern_q(field: str, value: str, op: str) -> Q:
    """`*` at either end is a wildcard; `:` without one means "contains", `=` "equals"."""
    starts, ends = value.startswith("*"), value.endswith("*") and len(value) > 1
    core = value.strip("*")
    if "*" in core:
        raise QueryError(_("A wildcard “*” may appear only at the start or end of a value."))
    if starts and ends or (op == ":" and not starts and not ends):
        return Q(**{f"{field}__icontains": core})
    if starts:
        return Q(**{f"{field}__iendswith": core})
    if ends:
        return Q(**{f"{field}__istartswith": core})
    return Q(**{f"{field}__iexact": core})


def _classification_q(node) -> Q:
    if isinstance(node, Text):
        return Q(display_name__icontains=node.value) | Q(display_name_ko__icontains=node.value)
    if isinstance(node, Restriction):
        if node.field in {"display_name", "displayName"}:
            if node.op not in {":", "="}:
                raise QueryError(_("display_name supports “:” and “=”."))
            return _pattern_q("display_name", node.value, node.op) | _pattern_q(
                "display_name_ko", node.value, node.op
            )
        if node.field == "id":
            if node.op != "=":
                raise QueryError(_("id supports only the “=” operator."))
            return Q(code=node.value)
        raise QueryError(
            _("Classifications can be searched by display_name or id, not “%(field)s”.")
            % {"field": node.field[:40]}
        )
    if isinstance(node, Not):
        return ~_classification_q(node.part)
    combined = None
    for part in node.parts:
        q = _classification_q(part)
        if combined is None:
            combined = q
        elif isinstance(node, And):
            combined &= q
        else:
            combined |= q
    return combined


def compile_classification_query(text: str | None) -> Q:
    tree = parse(text)
    return Q() if tree is None else _classification_q(tree)
