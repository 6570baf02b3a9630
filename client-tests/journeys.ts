// The holder's and the support journeys through a TypeScript client made
// from the served /openapi.json (openapi-typescript's types, openapi-fetch's
// calls): the same journeys as .ci/client_journeys.py. `tsc --strict`
// checks every path, body and answer field against the document before it
// runs (each body `satisfies` its schema: a field the document does not
// have is an error); at run time every answer must be the documented
// success.
//
// node build/journeys.js BASE WALLET_KEY SUPPORT_KEY RISK_KEY

import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Schemas = components["schemas"];
// Node's argv, without pulling in all of @types/node for one line.
declare const process: { argv: string[] };

const [base, walletKey, supportKey, riskKey] = process.argv.slice(2) as [string, string, string, string];
const client = (key: string) => createClient<paths>({ baseUrl: base, headers: { authorization: `Bearer ${key}` } });
const wallet = client(walletKey);
const support = client(supportKey);
const risk = client(riskKey);
let steps = 0;

/** The answer's body, which must be the documented success (not an error envelope). */
function typed<T>(answer: { data?: T; error?: unknown; response: Response }, what: string): T {
  steps += 1;
  if (answer.data === undefined) {
    const e = answer.error as Schemas["ErrorEnvelope"] | undefined;
    throw new Error(`step ${steps} (${what}): HTTP ${answer.response.status} ${e?.error?.code ?? JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`step ${steps}: ${what}`);
}

async function codeFor(phone: string): Promise<string> {
  const inbox = typed(await wallet.GET("/v1/demo/inbox/{recipient}", { params: { path: { recipient: phone } } }), "inbox");
  const code = inbox.messages[0]?.body.match(/\d{6}/)?.[0];
  if (!code) throw new Error(`no code for ${phone}`);
  return code;
}

async function card(scenario: string): Promise<Schemas["DemoCardView"]> {
  const page = typed(await wallet.GET("/v1/demo/cards", { params: { query: { limit: 100 } } }), "demo cards");
  check(!page.has_more, "the demo cards on one page");
  const c = page.data.find((x) => x.scenario === scenario);
  if (!c) throw new Error(`no test card ${scenario}`);
  return c;
}

async function account(): Promise<string> {
  const phone = "137" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
  const a = typed(await wallet.POST("/v1/accounts", { body: { phone, phone_verified_by: "wallet" } satisfies Schemas["NewAccountBody"] }), "account");
  const c = await card("ok_debit");
  typed(await wallet.POST("/v1/accounts/{id}/kyc", { params: { path: { id: a.id } }, body: { real_name: c.holder_name, id_number: c.id_number } satisfies Schemas["KycBody"] }), "kyc");
  return a.id;
}

const bindBody = (c: Schemas["DemoCardView"]): Schemas["BindBody"] => ({
  card_number: c.card_number,
  holder_name: c.holder_name,
  id_number: c.id_number,
  phone: c.phone,
});

// --- the holder's journey: account, KYC, bind with the code, pay, unbind, revoke
const acc = await account();
const debit = await card("ok_debit");
const id = { id: acc };
const pending = typed(await wallet.POST("/v1/accounts/{id}/bindings", { params: { path: id }, body: bindBody(debit) }), "bind");
check(pending.status === "pending_verification", `pending, not ${pending.status}`);
const bid = { id: acc, bid: pending.id };
const bound = typed(
  await wallet.POST("/v1/accounts/{id}/bindings/{bid}/confirm", { params: { path: bid }, body: { otp: await codeFor(debit.phone) } satisfies Schemas["OtpBody"] }),
  "confirm",
);
check(bound.status === "active", `active, not ${bound.status}`);
const cards = typed(await wallet.GET("/v1/accounts/{id}/bindings", { params: { path: id, query: { limit: 1 } } }), "list");
check(cards.data.length === 1 && cards.data[0]?.id === bound.id && !cards.has_more, "one card on one page");
typed(await wallet.POST("/v1/accounts/{id}/payment-password", { params: { path: id }, body: { password: "135790" } satisfies Schemas["PaymentPasswordBody"] }), "password");
const terms = { amount: 1234, currency: "CNY", merchant_id: "m_client" };
const cg = typed(
  await wallet.POST("/v1/accounts/{id}/bindings/{bid}/cryptograms", { params: { path: bid }, body: { ...terms, payment_password: "135790" } satisfies Schemas["CryptogramBody"] }),
  "cryptogram",
);
const paid = typed(await wallet.POST("/v1/payments", { body: { ...terms, cryptogram: cg.cryptogram, token_number: cg.token_number } satisfies Schemas["PaymentBody"] }), "pay");
check(paid.status === "authorized", `authorized, not ${paid.status}`);
typed(await wallet.POST("/v1/accounts/{id}/bindings", { params: { path: id }, body: bindBody(await card("ok_debit_ccb")) }), "second card");
// The authorization is unsettled: void it so the card can be unbound.
typed(await wallet.POST("/v1/payments/{pid}/void", { params: { path: { pid: paid.id } } }), "void");
const unbind = typed(await wallet.POST("/v1/accounts/{id}/bindings/{bid}/unbind", { params: { path: bid }, body: {} satisfies Schemas["UnbindBody"] }), "unbind");
check(unbind.verification.length === 1 && unbind.verification[0] === "sms_code", `sms_code, not ${unbind.verification}`);
const unbinding = typed(
  await wallet.POST("/v1/accounts/{id}/bindings/{bid}/unbind/confirm", { params: { path: bid }, body: { otp: await codeFor(debit.phone) } satisfies Schemas["UnbindConfirmBody"] }),
  "unbind confirm",
);
check(unbinding.status === "unbinding", `unbinding, not ${unbinding.status}`);
const back = typed(await wallet.POST("/v1/accounts/{id}/bindings/{bid}/unbind/revoke", { params: { path: bid } }), "revoke");
check(back.status === "active", `active, not ${back.status}`);
const holderSteps = steps;

// --- the support journey: a ticket in the queue, a comment, an unlock, a review approved
const mismatch = await card("phone_mismatch");
async function lockedAccount(): Promise<string> {
  const a = await account();
  for (let i = 0; i < 10; i++) await wallet.POST("/v1/accounts/{id}/bindings", { params: { path: { id: a } }, body: bindBody(mismatch) });
  return a;
}
const locked = await lockedAccount();
const t = typed(await wallet.POST("/v1/accounts/{id}/tickets", { params: { path: { id: locked } }, body: { note: "绑卡一直失败" } satisfies Schemas["TicketBody"] }), "ticket");
const queue = typed(await support.GET("/v1/ops/tickets", { params: { query: { limit: 100 } } }), "queue");
check(queue.data.some((x) => x.number === t.number), "the ticket is in the queue");
const num = { number: t.number };
typed(await support.POST("/v1/ops/tickets/{number}/comment", { params: { path: num }, body: { body: "已核实身份，正在处理" } satisfies Schemas["AgentBody"] }), "comment");
const unlocked = typed(
  await support.POST("/v1/ops/accounts/{id}/unlock", { params: { path: { id: locked } }, body: { reason: `ticket ${t.number}: identity checked by phone` } satisfies Schemas["UnlockBody"] }),
  "unlock",
);
check(unlocked.released.includes("account"), `account released, not ${unlocked.released}`);
typed(await support.GET("/v1/ops/tickets/{number}", { params: { path: num } }), "agent's view");
typed(await wallet.GET("/v1/accounts/{id}/tickets/{number}", { params: { path: { id: locked, number: t.number } } }), "holder's view");

const relock = await lockedAccount();
const materials: Schemas["MaterialBody"][] = [
  { type: "id_front", ref: "wallet://docs/f.jpg" },
  { type: "id_back", ref: "wallet://docs/b.jpg" },
];
const review = typed(
  await wallet.POST("/v1/accounts/{id}/reviews", { params: { path: { id: relock } }, body: { kind: "risk_lock", statement: "我输错了手机号", materials } satisfies Schemas["ReviewBody"] }),
  "review",
);
const approved = typed(await risk.POST("/v1/ops/reviews/{rvid}/approve", { params: { path: { rvid: review.id } }, body: { reason: "证件一致" } satisfies Schemas["DecisionBody"] }), "approve");
check(approved.status === "approved" && (approved.released?.length ?? 0) > 0, `approved and released, not ${approved.status}`);

console.log(`generated TypeScript client journeys: holder ${holderSteps} typed answers, support ${steps - holderSteps} typed answers`);
