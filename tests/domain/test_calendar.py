"""Business calendars and SLA deadline maths: working days, cut-offs, holidays, business
hours, and both daylight-saving switches (Europe/Amsterdam: 2026-03-29 02:00 → 03:00,
2026-10-25 03:00 → 02:00). Pure functions: no app, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.domain.calendar import (
    BusinessCalendar,
    CalendarError,
    add_business_hours,
    end_of_business_day,
    normalise_working_days,
    working_days_label,
)
from app.domain.sla import (
    NoticeDecision,
    SlaPolicy,
    breach_reason,
    chip_view,
    dispatch_deadline,
    notice_decision,
    payment_deadline,
    same_day_hold_deadline,
)

AMS = ZoneInfo("Europe/Amsterdam")
AMSTERDAM = BusinessCalendar(timezone="Europe/Amsterdam")  # Mon–Fri, 08:00–16:00


def local(*args) -> datetime:
    return datetime(*args, tzinfo=AMS)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Same-day deadlines ------------------------------------------------------------------


def test_before_the_cutoff_a_hold_is_due_at_todays_cutoff():
    assert end_of_business_day(local(2026, 3, 27, 10, 0), AMSTERDAM) == utc(2026, 3, 27, 15, 0)  # 16:00 CET


def test_after_the_cutoff_on_friday_it_is_due_on_monday_in_summer_time():
    # Friday 17:00 CET; the clocks go forward on Sunday, so Monday's 16:00 is 14:00 UTC.
    due = end_of_business_day(local(2026, 3, 27, 17, 0), AMSTERDAM)
    assert due == utc(2026, 3, 30, 14, 0)
    assert due.astimezone(AMS).time() == time(16, 0)


def test_after_the_cutoff_before_clocks_go_back_it_is_due_on_monday_in_winter_time():
    due = end_of_business_day(local(2026, 10, 23, 17, 0), AMSTERDAM)
    assert due == utc(2026, 10, 26, 15, 0)
    assert due.astimezone(AMS).time() == time(16, 0)


def test_exactly_at_the_cutoff_counts_as_after_it():
    assert end_of_business_day(local(2026, 3, 2, 16, 0), AMSTERDAM) == utc(2026, 3, 3, 15, 0)


def test_weekend_work_goes_to_monday():
    assert end_of_business_day(local(2026, 3, 7, 9, 0), AMSTERDAM) == utc(2026, 3, 9, 15, 0)


def test_holidays_are_skipped():
    kings_day = BusinessCalendar(timezone="Europe/Amsterdam", holidays=frozenset({date(2026, 4, 27)}))
    # Friday after the cut-off: Monday 27 April is a holiday, so Tuesday.
    assert end_of_business_day(local(2026, 4, 24, 18, 0), kings_day) == utc(2026, 4, 28, 14, 0)
    assert end_of_business_day(local(2026, 4, 24, 18, 0), AMSTERDAM) == utc(2026, 4, 27, 14, 0)


def test_a_seven_day_calendar_works_on_both_switch_days():
    every_day = BusinessCalendar(timezone="Europe/Amsterdam", working_days="1234567")
    # 01:30 CET on the spring Sunday, before the switch: due at 16:00 CEST the same day.
    assert end_of_business_day(utc(2026, 3, 29, 0, 30), every_day) == utc(2026, 3, 29, 14, 0)
    # Autumn Sunday at 11:00 CET: 16:00 CET.
    assert end_of_business_day(utc(2026, 10, 25, 10, 0), every_day) == utc(2026, 10, 25, 15, 0)
    # The repeated hour: 02:30 CEST and 02:30 CET are an hour apart, both before the cut-off.
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)
    assert first.astimezone(AMS).strftime("%H:%M") == second.astimezone(AMS).strftime("%H:%M") == "02:30"
    assert end_of_business_day(first, every_day) == end_of_business_day(second, every_day) == utc(2026, 10, 25, 15, 0)


def test_a_cutoff_inside_the_missing_hour_lands_just_after_it():
    night = BusinessCalendar(timezone="Europe/Amsterdam", working_days="1234567", cutoff=time(2, 30))
    assert night.close_of(date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)  # 03:30 CEST
    # In the repeated hour the first 02:30 counts.
    assert night.close_of(date(2026, 10, 25)) == utc(2026, 10, 25, 0, 30)


def test_timezones_other_than_the_servers():
    new_york = BusinessCalendar(timezone="America/New_York")
    # 14:00 UTC on 2026-03-09 is 10:00 EDT (the US switched on 8 March): due 16:00 EDT = 20:00 UTC.
    assert end_of_business_day(utc(2026, 3, 9, 14, 0), new_york) == utc(2026, 3, 9, 20, 0)


def test_a_calendar_without_working_days_says_so():
    with pytest.raises(CalendarError):
        end_of_business_day(utc(2026, 3, 2, 9), BusinessCalendar(working_days=""))
    with pytest.raises(CalendarError):
        normalise_working_days([])


def test_working_days_are_stored_in_order():
    assert normalise_working_days(["5", 1, "3", 3]) == "135"
    assert working_days_label("12345") == "Mon, Tue, Wed, Thu, Fri"
    with pytest.raises(CalendarError):
        normalise_working_days([0, 8])


# Business hours ----------------------------------------------------------------------


def test_business_hours_continue_on_the_next_working_day_across_the_spring_switch():
    # Friday 15:00 CET + 2 h: one hour on Friday, one from Monday 08:00 CEST.
    assert add_business_hours(local(2026, 3, 27, 15, 0), 2, AMSTERDAM) == utc(2026, 3, 30, 7, 0)


def test_business_hours_started_outside_opening_begin_at_opening():
    assert add_business_hours(local(2026, 10, 24, 12, 0), 1, AMSTERDAM) == local(2026, 10, 26, 9, 0)  # Saturday
    assert add_business_hours(local(2026, 10, 26, 6, 0), 8, AMSTERDAM) == local(2026, 10, 26, 16, 0)


def test_a_business_day_with_a_clock_change_counts_real_hours():
    # Open 00:00–23:00 every day. On 29 March that is 22 elapsed hours, on 25 October 24.
    round_the_clock = BusinessCalendar(timezone="Europe/Amsterdam", working_days="1234567",
                                       opens=time(0, 0), cutoff=time(23, 0))
    start = local(2026, 3, 29, 0, 0)
    assert add_business_hours(start, 22, round_the_clock) == local(2026, 3, 29, 23, 0)
    assert add_business_hours(start, 22.5, round_the_clock) == local(2026, 3, 30, 0, 30)
    autumn = local(2026, 10, 25, 0, 0)
    assert add_business_hours(autumn, 24, round_the_clock) == local(2026, 10, 25, 23, 0)


def test_business_hours_skip_holidays():
    cal = BusinessCalendar(timezone="Europe/Amsterdam", holidays=frozenset({date(2026, 4, 27)}))
    assert add_business_hours(local(2026, 4, 24, 15, 0), 2, cal) == local(2026, 4, 28, 9, 0)


# Deadlines ---------------------------------------------------------------------------


def test_payment_deadline_uses_the_channels_policy():
    placed = utc(2026, 3, 2, 9)
    default = payment_deadline(placed, SlaPolicy())
    assert (default.warn_at, default.notice_at, default.due_at) == (
        placed + timedelta(hours=24), placed + timedelta(hours=48), placed + timedelta(hours=72))
    never_cancels = payment_deadline(placed, SlaPolicy(payment_reminder_1_hours=6, payment_reminder_2_hours=12,
                                                       auto_cancel_hours=None))
    assert (never_cancels.warn_at, never_cancels.notice_at, never_cancels.due_at) == (
        placed + timedelta(hours=6), placed + timedelta(hours=12), placed + timedelta(hours=12))


def test_plain_dispatch_hours_are_elapsed_time_across_the_switch():
    paid = utc(2026, 3, 27, 12, 0)  # 13:00 CET
    deadline = dispatch_deadline(paid, SlaPolicy(), AMSTERDAM)
    assert deadline.due_at == utc(2026, 3, 30, 12, 0)  # 72 h later, 14:00 CEST on the wall clock
    assert deadline.warn_at == paid + timedelta(hours=57.6)


def test_dispatch_in_business_hours_follows_the_locations_calendar():
    policy = SlaPolicy(dispatch_sla_hours=16, dispatch_warn_pct=50, dispatch_business_hours=True)
    deadline = dispatch_deadline(local(2026, 3, 27, 12, 0), policy, AMSTERDAM)  # Friday noon
    assert deadline.warn_at == local(2026, 3, 30, 12, 0)  # 4 h Friday + 4 h Monday
    assert deadline.due_at == local(2026, 3, 31, 12, 0)


def test_hold_deadline_warns_two_hours_before_and_address_holds_ask_at_once():
    held = local(2026, 3, 2, 10, 0)
    stock = same_day_hold_deadline(held, AMSTERDAM)
    address = same_day_hold_deadline(held, AMSTERDAM, notify_customer=True)
    assert stock.due_at == local(2026, 3, 2, 16, 0)
    assert stock.warn_at == local(2026, 3, 2, 14, 0) and stock.notice_at is None
    assert address.notice_at == held
    late = same_day_hold_deadline(local(2026, 3, 2, 15, 0), AMSTERDAM)
    assert late.warn_at is None  # less than two hours left: no amber phase


def test_a_policy_that_cannot_work_is_explained():
    assert SlaPolicy().problems() == {}
    problems = SlaPolicy(payment_reminder_1_hours=48, payment_reminder_2_hours=24, auto_cancel_hours=12,
                         dispatch_warn_pct=100).problems()
    assert set(problems) == {"payment_reminder_2_hours", "dispatch_warn_pct", "auto_cancel_hours"}
    assert "auto_cancel_hours" in SlaPolicy(auto_cancel_hours=30).problems()


# Catching up, breach reasons, chips ------------------------------------------------------


def test_notice_decision_after_downtime():
    moment, due, stale = utc(2026, 3, 3, 9), utc(2026, 3, 5, 9), timedelta(hours=12)
    assert notice_decision(moment, due, moment, stale) == NoticeDecision.SEND
    assert notice_decision(moment, due, moment + timedelta(hours=12), stale) == NoticeDecision.SEND
    assert notice_decision(moment, due, moment + timedelta(hours=13), stale) == NoticeDecision.STALE
    assert notice_decision(moment, due, due, stale) == NoticeDecision.PAST_DUE
    assert notice_decision(moment, due, moment + timedelta(days=30), None) == NoticeDecision.PAST_DUE
    # The last reminder of a channel that never cancels is due at the deadline itself.
    assert notice_decision(due, due, due, stale) == NoticeDecision.SEND


def test_breach_reasons_say_what_held_the_order_up():
    assert breach_reason("payment", status="new", hold_reason=None, payment_status="unpaid") == "unpaid"
    assert breach_reason("dispatch", status="on_hold", hold_reason="stock", payment_status="paid") == "on_hold:stock"
    assert breach_reason("dispatch", status="ready", hold_reason=None, payment_status="paid") == "not_picked"
    assert breach_reason("dispatch", status="packed", hold_reason=None, payment_status="paid") == "packed_not_shipped"
    assert breach_reason("address_hold", status="on_hold", hold_reason="address",
                         payment_status="paid") == "address_unresolved"


def test_chip_turns_amber_at_the_warning_and_red_at_the_deadline():
    warn, due = utc(2026, 3, 2, 12), utc(2026, 3, 2, 15)

    def chip(now, **kw):
        view = chip_view(state=kw.pop("state", "running"), warn_at=warn, due_at=due, now=now, **kw)
        return view.tone, view.text

    assert chip(utc(2026, 3, 2, 9)) == ("ok", "due in 6 h")
    assert chip(utc(2026, 3, 2, 12, 30)) == ("warn", "due in 2 h 30 min")
    assert chip(utc(2026, 3, 2, 17)) == ("bad", "2 h overdue")
    assert chip(utc(2026, 3, 4, 18), state="breached") == ("bad", "2 d 3 h overdue")
    assert chip(utc(2026, 3, 4, 18), state="breached", met_at=utc(2026, 3, 2, 20)) == ("bad", "met 5 h late")
    assert chip(utc(2026, 3, 2, 9), state="met") == ("done", "met")
    assert chip(utc(2026, 3, 2, 9), state="stopped") == ("off", "stopped")
