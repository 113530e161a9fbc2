"""The filter / query grammar (AIP-160 subset) as a pure parser: every form Google
documents, and clear refusals for what it does not take."""

from datetime import UTC, datetime

import pytest
from django.db.models import Q

from cases.api.query import (
    And,
    Not,
    Or,
    QueryError,
    Restriction,
    Text,
    compile_case_filter,
    compile_classification_query,
    parse,
)

OPEN = ~Q(state="CLOSED")


class TestParsing:
    def test_empty_filter_parses_to_nothing(self):
        assert parse("") is None
        assert parse("   ") is None
        assert parse(None) is None

    def test_a_single_restriction(self):
        assert parse("state=OPEN") == Restriction("state", "=", "OPEN", quoted=False)

    def test_spaces_around_the_operator_are_allowed(self):
        assert parse("state = CLOSED") == Restriction("state", "=", "CLOSED", quoted=False)

    def test_and_joins_restrictions(self):
        tree = parse('state=OPEN AND creator.email="tester@example.com"')
        assert tree == And(
            (
                Restriction("state", "=", "OPEN", quoted=False),
                Restriction("creator.email", "=", "tester@example.com", quoted=True),
            )
        )

    def test_or_binds_tighter_than_and_as_in_aip_160(self):
        tree = parse("state=OPEN AND priority=P1 OR priority=P2")
        assert tree == And(
            (
                Restriction("state", "=", "OPEN", quoted=False),
                Or(
                    (
                        Restriction("priority", "=", "P1", quoted=False),
                        Restriction("priority", "=", "P2", quoted=False),
                    )
                ),
            )
        )

    def test_parentheses_group(self):
        tree = parse("(state=OPEN AND priority=P1) OR priority=P0")
        assert isinstance(tree, Or)
        assert isinstance(tree.parts[0], And)

    def test_juxtaposition_means_and(self):
        tree = parse('"mail delayed" state=OPEN')
        assert tree == And((Text("mail delayed"), Restriction("state", "=", "OPEN", quoted=False)))

    def test_not_negates(self):
        assert parse("NOT state=CLOSED") == Not(Restriction("state", "=", "CLOSED", quoted=False))

    def test_quoted_values_keep_escaped_quotes(self):
        assert parse(r'"say \"hello\""') == Text('say "hello"')

    @pytest.mark.parametrize(
        "text",
        [
            "state=",
            "(state=OPEN",
            "state=OPEN)",
            "AND state=OPEN",
            "state=OPEN AND",
            '"unterminated',
            "state==OPEN",
            '"text"=value',
            "state=OPEN OR",
        ],
    )
    def test_broken_syntax_is_refused_with_a_message(self, text):
        with pytest.raises(QueryError) as refused:
            parse(text)
        assert str(refused.value.message)

    def test_deep_nesting_is_refused(self):
        with pytest.raises(QueryError):
            parse("(" * 50 + "state=OPEN" + ")" * 50)

    def test_very_long_queries_are_refused(self):
        with pytest.raises(QueryError):
            parse("x" * 3000)


class TestCaseFilters:
    def test_state_open_means_every_state_but_closed(self):
        assert compile_case_filter("state=OPEN", search=False).q == Q() & OPEN

    def test_state_closed(self):
        assert compile_case_filter("state=CLOSED", search=False).q == Q() & Q(state="CLOSED")

    def test_priority_or_priority(self):
        compiled = compile_case_filter("priority=P1 OR priority=P2", search=False)
        assert compiled.q == Q() & (Q(priority="P1") | Q(priority="P2"))

    def test_creator_email_is_matched_in_lower_case(self):
        compiled = compile_case_filter('creator.email="Agent@Reseller.Example.com"', search=False)
        assert compiled.q == Q() & Q(creator__email="agent@reseller.example.com")

    def test_googles_documented_examples_all_compile(self):
        for text in (
            "state=CLOSED",
            'state=OPEN AND creator.email="tester@example.com"',
            "state=OPEN AND (priority=P0 OR priority=P1)",
        ):
            compile_case_filter(text, search=False)
        compile_case_filter('update_time>"2020-01-01T00:00:00-05:00"', search=True)

    def test_update_time_is_compared_as_an_aware_moment(self):
        compiled = compile_case_filter('update_time>"2020-01-01T00:00:00-05:00"', search=True)
        assert compiled.q == Q() & Q(updated_at__gt=datetime(2020, 1, 1, 5, tzinfo=UTC))

    def test_free_text_is_returned_for_the_keyword_search(self):
        compiled = compile_case_filter('"mail delayed" AND state=OPEN', search=True)
        assert compiled.texts == ("mail delayed",)
        assert compiled.q == Q() & OPEN

    def test_free_text_is_refused_in_list_filters(self):
        with pytest.raises(QueryError):
            compile_case_filter('"mail delayed"', search=False)

    def test_update_time_is_search_only(self):
        with pytest.raises(QueryError):
            compile_case_filter('update_time>"2020-01-01T00:00:00Z"', search=False)

    def test_update_time_takes_only_greater_than(self):
        with pytest.raises(QueryError):
            compile_case_filter('update_time<"2020-01-01T00:00:00Z"', search=True)

    def test_free_text_inside_or_is_refused(self):
        with pytest.raises(QueryError):
            compile_case_filter('"mail" OR state=OPEN', search=True)

    @pytest.mark.parametrize(
        "text",
        [
            "state=PENDING",
            "priority=P5",
            "severity=P1",
            "state>OPEN",
            'update_time>"yesterday"',
            'organization="projects/123"',
            "title=hello",
        ],
    )
    def test_unknown_fields_and_values_are_refused(self, text):
        with pytest.raises(QueryError):
            compile_case_filter(text, search=True)

    def test_organization_restricts_a_search_to_one_customer(self):
        compiled = compile_case_filter('organization="organizations/42"', search=True)
        assert compiled.q == Q() & Q(customer_id=42)


class TestClassificationQueries:
    def test_wildcards_on_both_ends_mean_contains(self):
        q = compile_classification_query('display_name:"*Gmail*"')
        assert q == Q(display_name__icontains="Gmail") | Q(display_name_ko__icontains="Gmail")

    def test_trailing_wildcard_means_starts_with(self):
        q = compile_classification_query('display_name:"Gmail*"')
        assert q == Q(display_name__istartswith="Gmail") | Q(display_name_ko__istartswith="Gmail")

    def test_id_is_exact(self):
        assert compile_classification_query('id="gmail-x"') == Q(code="gmail-x")

    def test_other_fields_are_refused(self):
        with pytest.raises(QueryError):
            compile_classification_query('name:"Gmail"')

    def test_an_inner_wildcard_is_refused(self):
        with pytest.raises(QueryError):
            compile_classification_query('display_name:"Gm*ail"')
