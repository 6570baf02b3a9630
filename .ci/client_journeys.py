"""Journeys through a Python client generated from /openapi.json by
openapi-python-client, using its typed models only (issue 17): a wallet
integrator's holder journey and a support/risk journey. Every answer must
parse into its model; a None (an untyped or unexpected answer) fails.

Run by .ci/client-journeys, which starts the server and generates the
client into a temporary package `bangka_client`.
"""

import random
import re
import sys

from bangka_client import AuthenticatedClient
from bangka_client.api.accounts import create_account, set_payment_password, verify_kyc
from bangka_client.api.bindings import confirm_binding, confirm_unbind, create_binding, request_unbind, revoke_unbind
from bangka_client.api.demo import demo_cards, demo_inbox
from bangka_client.api.ops import ops_approve_review, ops_comment, ops_ticket, ops_tickets, ops_unlock
from bangka_client.api.payments import create_cryptogram, create_payment, void_payment
from bangka_client.api.support import get_ticket, open_ticket, submit_review
from bangka_client.models import (
    AccountView,
    AgentBody,
    BindBody,
    BindingView,
    CryptogramBody,
    CryptogramView,
    DecisionBody,
    DemoCardList,
    DemoCardView,
    ErrorEnvelope,
    InboxView,
    KycBody,
    MaterialBody,
    NewAccountBody,
    OtpBody,
    PaymentBody,
    PaymentPasswordBody,
    PaymentView,
    ReviewBody,
    ReviewView,
    TicketBody,
    TicketList,
    TicketView,
    UnbindBody,
    UnbindConfirmBody,
    UnbindRequestedView,
    UnlockBody,
    UnlockView,
)

base, wallet_key, support_key, risk_key = sys.argv[1:5]
wallet = AuthenticatedClient(base_url=base, token=wallet_key)
support = AuthenticatedClient(base_url=base, token=support_key)
risk = AuthenticatedClient(base_url=base, token=risk_key)
steps = 0


def typed(answer, model):
    """The parsed answer, which must be of `model` (not None, not an error)."""
    global steps
    steps += 1
    if not isinstance(answer, model):
        detail = answer.error.code if isinstance(answer, ErrorEnvelope) else answer
        raise SystemExit(f"step {steps}: expected {model.__name__}, got {detail!r}")
    return answer


def code_for(phone):
    inbox = typed(demo_inbox.sync(client=wallet, recipient=phone), InboxView)
    return re.search(r"\d{6}", inbox.messages[0].body).group(0)


def card(scenario):
    cards = typed(demo_cards.sync(client=wallet, limit=100), DemoCardList)
    assert cards.data and not cards.has_more, "demo cards on one page"
    return next(typed(c, DemoCardView) for c in cards.data if c.scenario == scenario)


def account():
    phone = "137%08d" % random.randrange(10**8)
    a = typed(create_account.sync(client=wallet, body=NewAccountBody(phone=phone, phone_verified_by="wallet")), AccountView)
    c = card("ok_debit")
    typed(verify_kyc.sync(a.id, client=wallet, body=KycBody(real_name=c.holder_name, id_number=c.id_number)), AccountView)
    return a.id


def bind_body(c):
    return BindBody(card_number=c.card_number, holder_name=c.holder_name, id_number=c.id_number, phone=c.phone)


# --- the holder's journey: account, KYC, bind with the code, pay, unbind, revoke
acc = account()
debit = card("ok_debit")
pending = typed(create_binding.sync(acc, client=wallet, body=bind_body(debit)), BindingView)
assert pending.status == "pending_verification", pending.status
bound = typed(confirm_binding.sync(acc, pending.id, client=wallet, body=OtpBody(otp=code_for(debit.phone))), BindingView)
assert bound.status == "active", bound.status
typed(set_payment_password.sync(acc, client=wallet, body=PaymentPasswordBody(password="135790")), AccountView)
cg = typed(
    create_cryptogram.sync(acc, bound.id, client=wallet, body=CryptogramBody(amount=1234, currency="CNY", merchant_id="m_client", payment_password="135790")),
    CryptogramView,
)
paid = typed(
    create_payment.sync(
        client=wallet,
        body=PaymentBody(amount=1234, currency="CNY", merchant_id="m_client", cryptogram=cg.cryptogram, token_number=cg.token_number),
    ),
    PaymentView,
)
assert paid.status == "authorized", paid.status
typed(create_binding.sync(acc, client=wallet, body=bind_body(card("ok_debit_ccb"))), BindingView)  # a second card, left pending
# The authorization is unsettled: void it so the card can be unbound.
typed(void_payment.sync(paid.id, client=wallet), PaymentView)
unbind = typed(request_unbind.sync(acc, bound.id, client=wallet, body=UnbindBody()), UnbindRequestedView)
assert unbind.verification == ["sms_code"], unbind.verification
unbinding = typed(confirm_unbind.sync(acc, bound.id, client=wallet, body=UnbindConfirmBody(otp=code_for(debit.phone))), BindingView)
assert unbinding.status == "unbinding", unbinding.status
back = typed(revoke_unbind.sync(acc, bound.id, client=wallet), BindingView)
assert back.status == "active", back.status
holder_steps = steps

# --- the support journey: a ticket in the queue, a comment, an unlock, a review approved
locked = account()
mismatch = card("phone_mismatch")
for _ in range(10):
    create_binding.sync(locked, client=wallet, body=bind_body(mismatch))
t = typed(open_ticket.sync(locked, client=wallet, body=TicketBody(note="绑卡一直失败")), TicketView)
queue = typed(ops_tickets.sync(client=support, limit=100), TicketList)
assert any(x.number == t.number for x in queue.data), "the ticket is in the queue"
typed(ops_comment.sync(t.number, client=support, body=AgentBody(body="已核实身份，正在处理")), TicketView)
unlocked = typed(ops_unlock.sync(locked, client=support, body=UnlockBody(reason="ticket " + t.number + ": identity checked by phone")), UnlockView)
assert "account" in unlocked.released, unlocked.released
typed(ops_ticket.sync(t.number, client=support), TicketView)
typed(get_ticket.sync(locked, t.number, client=wallet), TicketView)

relock = account()
for _ in range(10):
    create_binding.sync(relock, client=wallet, body=bind_body(mismatch))
docs = [MaterialBody(type_="id_front", ref="wallet://docs/f.jpg"), MaterialBody(type_="id_back", ref="wallet://docs/b.jpg")]
review = typed(submit_review.sync(relock, client=wallet, body=ReviewBody(kind="risk_lock", statement="我输错了手机号", materials=docs)), ReviewView)
approved = typed(ops_approve_review.sync(review.id, client=risk, body=DecisionBody(reason="证件一致")), ReviewView)
assert approved.status == "approved" and approved.released, approved

print(f"generated client journeys: holder {holder_steps} typed answers, support {steps - holder_steps} typed answers")
