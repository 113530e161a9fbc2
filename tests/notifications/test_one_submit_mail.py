"""Issue 13: one support submit (reply + state + severity + assignee) is one group of
events and one mail per recipient on the customer side, naming every change."""

from datetime import timedelta

from cases.services import case_support_update
from tests.notifications.test_coalescing import (  # noqa: F401 (fixtures)
    AGENT,
    BOSS,
    T0,
    beat,
    by_recipient,
    case,
    change,
    coalescing,
)


def test_one_submit_is_one_mail_per_recipient(w, coalescing, case, change, beat):  # noqa: F811
    t = T0 + timedelta(minutes=10)
    change(
        t,
        lambda: case_support_update(
            user=w.engineer,
            case=case,
            body="Could you send the full headers of one delayed message?",
            state="ACTION_REQUIRED",
            priority="P2",
            assignee=w.engineer,
        ),
    )
    groups = set(case.events.filter(created_at__gte=t).values_list("group", flat=True))
    assert len(groups) == 1 and None not in groups
    mails = by_recipient(beat(t + timedelta(seconds=200)))
    assert set(mails) >= {AGENT, BOSS}
    for address in (AGENT, BOSS):
        (mail,) = mails[address]
        assert "Could you send the full headers" in mail.body
        assert "“Action required”" in mail.body and "P2 – High impact" in mail.body
    assert beat(t + timedelta(minutes=30)) == []
