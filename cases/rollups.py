"""The dashboard's rollup (`CaseRollup`), kept by PostgreSQL itself.

A trigger on cases_case subtracts what the old row counted and adds what the new row
counts, in the same transaction as the change, whoever makes it (the services, the
periodic jobs, the API, a QuerySet.update). What a case counts for is
`cases_case_rollup_facts`:

- S  open (not closed): (state, priority)
- U  open and unanswered: (priority, day filed)
- C  filed: (day filed)
- X  closed: (day closed)
- N  unanswered, any state: (day filed)
- L  first answered after its first-response target: (day filed)

Days are UTC. Test cases count for nothing. Every fact is counted twice: per customer and
managing domain, and per managing domain alone (customer NULL). Visibility is not in the
rollup: the dashboard applies the rules of `case_visible_to` to the customer and the
managing domain of the rows (cases.selectors.case_rollup_visible_to): support sums the
domain rows, a customer user their customer's rows, a reseller its domain's rows minus the
rows of the few customers it may not see now (consent off, relationship ended).

The bulk loader of the benchmark disables user triggers and calls
`rollup_rebuild_sql()` after loading."""

from cases.lifecycle import FIRST_RESPONSE_HOURS


def _target_sql(tier: str, priority: str) -> str:
    """SQL for the first-response target (an interval) of `tier` × `priority`, from the one
    table in cases.lifecycle."""
    whens = " ".join(
        f"WHEN {tier} = '{t}' AND {priority} = '{p}' THEN interval '{hours * 3600:g} seconds'"
        for t, by_priority in FIRST_RESPONSE_HOURS.items()
        for p, hours in by_priority.items()
    )
    return f"(CASE {whens} ELSE interval '24 hours' END)"


def rollup_functions_sql() -> str:
    return f"""
    CREATE OR REPLACE FUNCTION cases_case_rollup_facts(c cases_case, tier varchar)
    RETURNS TABLE(kind varchar, day date, state varchar, priority varchar) AS $$
    BEGIN
        IF c.is_test THEN
            RETURN;
        END IF;
        RETURN QUERY SELECT 'C'::varchar, (c.created_at AT TIME ZONE 'UTC')::date, ''::varchar, ''::varchar;
        IF c.state = 'CLOSED' THEN
            RETURN QUERY SELECT 'X'::varchar, (c.closed_at AT TIME ZONE 'UTC')::date, ''::varchar, ''::varchar;
        ELSE
            RETURN QUERY SELECT 'S'::varchar, NULL::date, c.state, c.priority;
        END IF;
        IF c.first_response_at IS NULL THEN
            RETURN QUERY SELECT 'N'::varchar, (c.created_at AT TIME ZONE 'UTC')::date, ''::varchar, ''::varchar;
            IF c.state <> 'CLOSED' THEN
                RETURN QUERY SELECT 'U'::varchar, (c.created_at AT TIME ZONE 'UTC')::date, ''::varchar,
                    c.priority;
            END IF;
        ELSIF c.first_response_at > c.created_at + {_target_sql("tier", "c.priority")} THEN
            RETURN QUERY SELECT 'L'::varchar, (c.created_at AT TIME ZONE 'UTC')::date, ''::varchar, ''::varchar;
        END IF;
    END;
    $$ LANGUAGE plpgsql IMMUTABLE;

    CREATE OR REPLACE FUNCTION cases_case_rollup_apply(c cases_case, delta integer) RETURNS void AS $$
    BEGIN
        -- Each fact twice: for the customer, and for the managing domain as a whole. Rows
        -- in one order, so that two transactions never wait on each other crosswise.
        INSERT INTO cases_caserollup AS r (kind, customer_id, managing_domain_id, day, state, priority, n)
        SELECT f.kind, who.customer_id, c.managing_domain_id, f.day, f.state, f.priority, delta
          FROM cases_case_rollup_facts(
                   c, (SELECT support_tier FROM customers_customer WHERE id = c.customer_id)) AS f
         CROSS JOIN (VALUES (NULL::bigint), (c.customer_id)) AS who(customer_id)
         ORDER BY 2 NULLS FIRST, 1, 4, 5, 6
        ON CONFLICT ON CONSTRAINT case_rollup_key DO UPDATE SET n = r.n + EXCLUDED.n;
    END;
    $$ LANGUAGE plpgsql;

    CREATE OR REPLACE FUNCTION cases_case_rollup() RETURNS trigger AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            PERFORM cases_case_rollup_apply(OLD, -1);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            PERFORM cases_case_rollup_apply(NEW, 1);
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql;
    """


TRIGGERS_SQL = """
    CREATE TRIGGER cases_case_rollup_insert_delete AFTER INSERT OR DELETE ON cases_case
        FOR EACH ROW EXECUTE FUNCTION cases_case_rollup();
    -- Only changes that move a count: a new message or a share touches updated_at alone.
    CREATE TRIGGER cases_case_rollup_update AFTER UPDATE ON cases_case
        FOR EACH ROW WHEN (
            OLD.state IS DISTINCT FROM NEW.state
            OR OLD.priority IS DISTINCT FROM NEW.priority
            OR OLD.customer_id IS DISTINCT FROM NEW.customer_id
            OR OLD.managing_domain_id IS DISTINCT FROM NEW.managing_domain_id
            OR OLD.created_at IS DISTINCT FROM NEW.created_at
            OR OLD.closed_at IS DISTINCT FROM NEW.closed_at
            OR OLD.first_response_at IS DISTINCT FROM NEW.first_response_at
            OR OLD.is_test IS DISTINCT FROM NEW.is_test
        ) EXECUTE FUNCTION cases_case_rollup();
"""

DROP_SQL = """
    DROP TRIGGER IF EXISTS cases_case_rollup_update ON cases_case;
    DROP TRIGGER IF EXISTS cases_case_rollup_insert_delete ON cases_case;
    DROP FUNCTION IF EXISTS cases_case_rollup();
    DROP FUNCTION IF EXISTS cases_case_rollup_apply(cases_case, integer);
    DROP FUNCTION IF EXISTS cases_case_rollup_facts(cases_case, varchar);
"""


def rollup_rebuild_sql() -> str:
    """Recount the whole rollup from cases_case (after a bulk load with triggers off)."""
    return """
    DELETE FROM cases_caserollup;
    INSERT INTO cases_caserollup (kind, customer_id, managing_domain_id, day, state, priority, n)
    SELECT f.kind, c.customer_id, c.managing_domain_id, f.day, f.state, f.priority, count(*)
      FROM cases_case c
      JOIN customers_customer cu ON cu.id = c.customer_id
     CROSS JOIN LATERAL cases_case_rollup_facts(c, cu.support_tier) AS f
     GROUP BY GROUPING SETS (
        (f.kind, c.customer_id, c.managing_domain_id, f.day, f.state, f.priority),
        (f.kind, c.managing_domain_id, f.day, f.state, f.priority)
     );
    """


def install_sql() -> str:
    return rollup_functions_sql() + TRIGGERS_SQL + rollup_rebuild_sql()
