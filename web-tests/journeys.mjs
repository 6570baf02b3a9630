// Browser tests: a holder and an operator use Bangka's pages in a real
// browser (Debian's chromium, driven by playwright-core), with no curl.
//
//   node journeys.mjs BASE_URL SUPPORT_KEY RISK_KEY SCREENSHOT_DIR
//
// .ci/browser-tests starts the server and passes the keys. Every page is
// also checked for requests to any other site and for Content-Security-
// Policy violations. Screenshots of the key screens go to SCREENSHOT_DIR.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import assert from "node:assert/strict";

const [base, supportKey, riskKey, shots, adminKey] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
let steps = 0;
const pages = [];
// On any failure: a screenshot of every open page, to see what the user saw.
process.on("uncaughtException", async (e) => {
  console.error(e);
  for (const [i, p] of pages.entries()) await p.screenshot({ path: `${shots}/failed-${i}.png`, fullPage: true }).catch(() => {});
  for (const p of pages) if (p.problems.length) console.error("page problems:", p.problems);
  process.exit(1);
});
const step = (what) => {
  steps += 1;
  console.log(`  ${String(steps).padStart(2)}. ${what}`);
};

/// A page that fails the run on a request to another site, a CSP
/// violation, or an uncaught script error.
async function newPage(opts) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...opts });
  const page = await context.newPage();
  const problems = [];
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith("blob:") && !u.startsWith("data:")) problems.push("request to another site: " + u);
  });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push("CSP: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("script error: " + e.message));
  page.problems = problems;
  pages.push(page);
  return page;
}

function clean(page) {
  assert.deepEqual(page.problems, [], "the page stayed on this server, within its CSP, without script errors");
}

async function api(method, path, body, key) {
  const headers = { "content-type": "application/json" };
  if (key) headers.authorization = "Bearer " + key;
  const r = await fetch(base + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  return { status: r.status, body: await r.json().catch(() => null) };
}

// ---------------------------------------------------------------- holder
console.log("holder journey (zh-CN, phone width for the first screens)");
const holder = await newPage({ locale: "zh-CN", viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
await holder.goto(base + "/");
await holder.getByRole("button", { name: "以演示用户开始" }).click();
await holder.locator("#account").waitFor();
step("started as a demo holder (a demo wallet key and a new account)");
await holder.screenshot({ path: `${shots}/wallet-phone.png`, fullPage: false });

// KYC with the test identity, then the payment password.
await holder.locator("#test-card option[value=ok_debit]").waitFor({ state: "attached" });
await holder.getByRole("button", { name: "使用测试身份" }).click();
await holder.getByRole("button", { name: "认证", exact: true }).click();
await holder.locator(".kyc-status", { hasText: "已认证" }).waitFor();
step("verified the real name");
await holder.getByLabel("6 位数字").fill("135790");
await holder.getByRole("button", { name: "设置密码" }).click();
await holder.locator("#password-form").waitFor({ state: "hidden" });
step("set the payment password");
await holder.setViewportSize({ width: 1280, height: 900 });

// A failure: the phone the bank has is not the one typed.
await holder.locator("#test-card").selectOption("phone_mismatch");
await holder.locator("#card-check.good").waitFor();
await holder.getByRole("button", { name: "添加银行卡" }).click();
const failure = holder.locator("#bind-result .failure");
await failure.waitFor();
const code = await failure.getAttribute("data-code");
assert.match(code, /^[A-Z_]+$/);
assert.ok((await failure.locator(".failure-steps li").count()) > 0, "the failure lists remediation steps");
assert.ok((await failure.locator(".failure-message").textContent()).length > 4, "the failure says what happened");
step(`a bind failed with ${code}: message, remediation steps and request id shown`);
await holder.screenshot({ path: `${shots}/wallet-failure.png`, fullPage: true });
await failure.getByRole("button", { name: "提交工单" }).click();
const ticketResult = failure.locator(".ticket-result[data-ticket]");
await ticketResult.waitFor();
const ticket = await ticketResult.getAttribute("data-ticket");
step(`a ticket ${ticket} was created from the failure, with its context`);

// A card bound with the code from the inbox panel.
await holder.locator("#test-card").selectOption("ok_debit");
await holder.getByRole("button", { name: "添加银行卡" }).click();
await holder.locator("#code-form").waitFor();
await holder.locator("#inbox-list .use-code").first().waitFor();
await holder.screenshot({ path: `${shots}/wallet-code-and-inbox.png`, fullPage: true });
await holder.locator("#inbox-list .use-code").first().click();
assert.match(await holder.locator("#code").inputValue(), /^\d{6}$/);
await holder.getByRole("button", { name: "确认", exact: true }).click();
const card = holder.locator("#card-list li[data-status=active]");
await card.waitFor();
step("bound a card with the code taken from the inbox panel");
await holder.screenshot({ path: `${shots}/wallet-cards.png`, fullPage: true });

// Unbind with the code, cooling-off, then revoke.
const codesBefore = await holder.locator("#inbox-list .use-code").count();
await card.getByRole("button", { name: "解绑" }).click();
await card.locator(".field-otp").waitFor();
// The newest message with a code is the unbind's.
await holder.waitForFunction((n) => document.querySelectorAll("#inbox-list .use-code").length > n, codesBefore);
await holder.locator("#inbox-list .use-code").first().click();
assert.match(await card.locator(".field-otp").inputValue(), /^\d{6}$/);
if (await card.locator(".field-payment_password").count()) await card.locator(".field-payment_password").fill("135790");
await card.getByRole("button", { name: "确认解绑" }).click();
const cooling = holder.locator("#card-list li[data-status=unbinding]");
await cooling.waitFor();
await cooling.locator(".cooling-off", { hasText: "冷静期" }).waitFor();
step("unbound the card: cooling-off countdown shown");
await holder.screenshot({ path: `${shots}/wallet-cooling-off.png`, fullPage: true });
await cooling.getByRole("button", { name: "撤销解绑" }).click();
await holder.locator("#card-list li[data-status=active]").waitFor();
step("revoked the unbind: the card is active again");

// Pay the demo shop with the payment password.
const active = holder.locator("#card-list li[data-status=active]").first();
await active.getByRole("button", { name: "向演示商户付款 12.34 元" }).click();
await active.locator(".field-payment_password").fill("135790");
await active.locator("form button[type=submit]").click();
await active.locator(".ok", { hasText: "付款成功" }).waitFor();
step("paid the demo shop 12.34 with the payment password");
await active.getByRole("button", { name: "交易记录" }).click();
await active.locator(".payments li", { hasText: "m_demo_shop" }).waitFor();
step("the card's payments list the payment");
// Unbinding now is refused, naming what stands in the way and until when.
await active.getByRole("button", { name: "解绑" }).click();
await active.locator('.failure .blockers li[data-blocker="unsettled_payment"]', { hasText: "自动释放" }).waitFor();
step("an unbind refused by the authorized payment names it and the day it is released");

// A receipt downloaded and its signature checked in the browser.
await holder.locator("#activity-body .receipts li").first().waitFor();
await holder.locator("#activity-body .receipts li").first().getByRole("button", { name: "验证签名" }).click();
await holder.locator("#activity-body .receipts .verdict.good").first().waitFor();
step("a receipt's Ed25519 signature verified in the browser");

// A card that is not activated yet: the failure offers the activation.
await holder.locator("#test-card").selectOption("not_activated");
await holder.getByRole("button", { name: "添加银行卡" }).click();
const notActivated = holder.locator("#bind-result .failure[data-code=CARD_NOT_ACTIVATED]");
await notActivated.waitFor();
let inboxCodes = await holder.locator("#inbox-list .use-code").count();
await notActivated.getByRole("button", { name: "激活这张卡" }).click();
await holder.locator("#code-form").waitFor();
await holder.waitForFunction((n) => document.querySelectorAll("#inbox-list .use-code").length > n, inboxCodes);
inboxCodes = await holder.locator("#inbox-list .use-code").count();
await holder.locator("#inbox-list .use-code").first().click();
await holder.getByRole("button", { name: "确认", exact: true }).click();
// Activated: the bind is sent again and asks for its own code.
await holder.waitForFunction((n) => document.querySelectorAll("#inbox-list .use-code").length > n, inboxCodes);
await holder.locator("#code-form").waitFor();
await holder.locator("#inbox-list .use-code").first().click();
await holder.getByRole("button", { name: "确认", exact: true }).click();
await holder.locator("#card-list li[data-status=active]").nth(1).waitFor();
step("activated a not-activated card from its failure, then bound it");

// Report a card lost: it cannot be undone, so the wallet says what follows
// and asks first; the frozen card then offers no unfreeze that cannot work.
const second = holder.locator("#card-list li[data-status=active]").nth(1);
await second.getByRole("button", { name: "挂失（卡丢了）" }).click();
await second.locator(".confirm", { hasText: "不能再解冻" }).waitFor();
await second.locator("button.confirm-lost").click();
const lostCard = holder.locator("#card-list li[data-status=frozen]");
await lostCard.waitFor();
await lostCard.locator(".lost-frozen").waitFor();
assert.equal(await lostCard.getByRole("button", { name: "解冻" }).count(), 0, "no unfreeze button on a card reported lost");
step("reported a card lost after a confirmation naming what follows: frozen, no unfreeze offered");

// The holder's language is switchable.
await holder.getByRole("button", { name: "English" }).click();
await holder.getByRole("heading", { name: "My cards" }).waitFor();
step("switched to English");
const accountId = await holder.evaluate(() => sessionStorage.getItem("bangka.account"));
clean(holder);

// ---------------------------------------------------------------- operators
console.log("operations journey");
// Set-up through the API (what other holders did meanwhile): an account
// locked by repeated failures, and one that asks for a review.
const wallet = (await api("POST", "/v1/demo/keys", { role: "wallet" })).body.key;
const cards = (await api("GET", "/v1/demo/cards?limit=100", null, wallet)).body.data;
const ok = cards.find((c) => c.scenario === "ok_debit");
const mismatch = cards.find((c) => c.scenario === "phone_mismatch");
async function lockedAccount() {
  const phone = "139" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
  const a = (await api("POST", "/v1/accounts", { phone, phone_verified_by: "wallet" }, wallet)).body;
  await api("POST", `/v1/accounts/${a.id}/kyc`, { real_name: ok.holder_name, id_number: ok.id_number }, wallet);
  const body = { card_number: mismatch.card_number, holder_name: mismatch.holder_name, id_number: mismatch.id_number, phone: mismatch.phone };
  for (let i = 0; i < 10; i++) await api("POST", `/v1/accounts/${a.id}/bindings`, body, wallet);
  return a.id;
}
const locked = await lockedAccount();
const lockedTicket = (await api("POST", `/v1/accounts/${locked}/tickets`, { note: "绑卡一直失败，账户被锁" }, wallet)).body.number;
const reviewed = await lockedAccount();
const review = (await api("POST", `/v1/accounts/${reviewed}/reviews`, {
  kind: "risk_lock", statement: "我输错了手机号", materials: [{ type: "id_front", ref: "wallet://docs/f.jpg" }, { type: "id_back", ref: "wallet://docs/b.jpg" }],
}, wallet)).body;
assert.ok(review && review.id, "a review was submitted");

const ops = await newPage({ locale: "en-US" });
await ops.goto(base + "/ops");
await ops.getByLabel("Operator key").fill(supportKey);
await ops.getByRole("button", { name: "Sign in" }).click();
await ops.locator("#who[data-role=support]").waitFor();
assert.equal(await ops.locator("#tab-tokens").count(), 0, "support is not offered detokenization");
step("support signed in: tabs for what support may do only");

// The holder's ticket and the locked account's ticket are in the queue.
await ops.locator(`#ticket-table tr[data-ticket="${ticket}"]`).waitFor();
await ops.locator(`#ticket-table tr[data-ticket="${lockedTicket}"]`).waitFor();
step(`the queue holds ${ticket} (from the wallet) and ${lockedTicket}, with SLA timers`);
await ops.screenshot({ path: `${shots}/ops-tickets.png`, fullPage: true });
// A public reply on the wallet holder's ticket, an internal note on the other.
await ops.locator(`#ticket-table tr[data-ticket="${ticket}"]`).click();
await ops.locator("#ticket-detail h3", { hasText: ticket }).waitFor();
await ops.locator("#ticket-detail form.reply .field-body").fill("请到银行柜台更新预留手机号后再试");
await ops.locator("#ticket-detail form.reply button[type=submit]").click();
await ops.locator("#ticket-detail .thread li.from-agent", { hasText: "预留手机号" }).waitFor();
await ops.locator(`#ticket-table tr[data-ticket="${lockedTicket}"]`).click();
await ops.locator("#ticket-detail h3", { hasText: lockedTicket }).waitFor();
await ops.locator("#ticket-detail form.reply .field-body").fill("已核实身份，正在处理");
await ops.locator("#ticket-detail form.reply .field-internal").check();
await ops.locator("#ticket-detail form.reply button[type=submit]").click();
await ops.locator("#ticket-detail .thread li.from-agent.internal", { hasText: "已核实身份" }).waitFor();
step("replied to one holder and left an internal note on the other ticket");
await ops.locator("#ticket-detail .unlock-ticket").evaluate((f) => f.scrollIntoView());
await ops.locator("#ticket-detail form:has(.unlock-ticket) .field-body, #ticket-detail form:has(button.unlock-ticket) .field-body").first().fill("identity checked by phone");
await ops.locator("#ticket-detail button.unlock-ticket").click();
await ops.locator("#ticket-detail .ok", { hasText: "Released" }).waitFor();
step("unlocked the account from its ticket");
const risk = await api("GET", `/v1/ops/accounts/${locked}/risk`, null, supportKey);
assert.equal(risk.body.locked_until, null, "the account is no longer locked");

// Charts: failures by code, and the chart follows new failures.
await ops.locator("#tab-charts").click();
const codes = ops.locator("#chart-codes > div[data-total]");
await codes.waitFor();
const before = Number(await codes.getAttribute("data-total"));
assert.ok(before >= 20, `the chart counts the failed binds so far (${before})`);
await ops.screenshot({ path: `${shots}/ops-charts.png`, fullPage: true });
await lockedAccount();
await ops.getByRole("button", { name: "Refresh" }).last().click();
await ops.waitForFunction((n) => Number(document.querySelector("#chart-codes > div[data-total]")?.dataset.total) > n, before);
step(`the failure chart moved from ${before} with new failures`);

// Audit log with the chain verified.
await ops.locator("#tab-audit").click();
await ops.locator("#audit-chain.ok").waitFor();
step("the audit log shows the hash chain intact");
await ops.getByRole("button", { name: "Sign out" }).click();

// Risk approves the review.
await ops.getByLabel("Operator key").fill(riskKey);
await ops.getByRole("button", { name: "Sign in" }).click();
await ops.locator("#who[data-role=risk]").waitFor();
await ops.locator("#tab-reviews").click();
await ops.locator(`#review-table tr[data-review="${review.id}"]`).click();
await ops.locator("#review-detail .approve-review").waitFor();
// The materials show their type and where the wallet keeps them (issue 29: "undefined:").
assert.equal(await ops.locator("#review-detail .materials li").first().innerText(), "id_front: wallet://docs/f.jpg");
assert.equal(await ops.locator("#ticket-detail button.unlock-ticket").count(), 0);
await ops.locator("#review-detail form:has(.approve-review) .field-reason").fill("证件一致");
await ops.screenshot({ path: `${shots}/ops-review.png`, fullPage: true });
await ops.locator("#review-detail .approve-review").click();
await ops.locator("#review-detail .ok", { hasText: "approved" }).waitFor();
step("risk approved the review; the lock is released");
await ops.getByRole("button", { name: "Sign out" }).click();

// An admin makes a key in the console: shown once, then revoked.
await ops.getByLabel("Operator key").fill(adminKey);
await ops.getByRole("button", { name: "Sign in" }).click();
await ops.locator("#who[data-role=admin]").waitFor();
await ops.locator("#tab-keys").click();
await ops.locator("#keys-table td", { hasText: "console-admin" }).waitFor();
assert.ok(!(await ops.locator("#keys-table").innerText()).includes("bk_test_"), "the list never shows a key");
await ops.locator("#key-role").selectOption("wallet");
await ops.locator("#key-name").fill("journey-wallet");
await ops.getByRole("button", { name: "Create", exact: true }).click();
const shown = await ops.locator("#key-result code.new-key").innerText();
assert.ok(shown.startsWith("bk_test_wallet_"), `the new key is shown once: ${shown}`);
const made = ops.locator("#keys-table tr", { hasText: "journey-wallet" });
await made.waitFor();
assert.equal((await api("GET", "/v1/accounts/acc_test_nosuchaccount0000", null, shown)).status, 404, "the new key works");
await ops.screenshot({ path: `${shots}/ops-keys.png`, fullPage: true });
ops.once("dialog", (d) => d.accept());
await made.locator("button.revoke-key").click();
await ops.locator("#key-result .ok", { hasText: "Revoked" }).waitFor();
await ops.locator("#keys-table tr", { hasText: "journey-wallet" }).filter({ hasText: "revoked" }).waitFor();
await new Promise((r) => setTimeout(r, 1000));
assert.equal((await api("GET", "/v1/accounts/acc_test_nosuchaccount0000", null, shown)).status, 401, "the revoked key is refused");
step("an admin created a key in the console (shown once) and revoked it");
clean(ops);

// ---------------------------------------------------------------- the holder again
// The reply reached the holder's ticket; the holder answers in the thread.
// The failed bind is in their attempts, with its diagnosis.
await holder.locator("#activity-refresh").click();
const mine = holder.locator(`#activity-body li[data-ticket="${ticket}"]`);
await mine.locator("button.thread-open").click();
await mine.locator(".thread li.from-agent", { hasText: "预留手机号" }).waitFor();
await mine.locator(".field-reply").fill("好的，我已经更新了预留手机号");
await mine.locator("form.reply button[type=submit]").click();
await mine.locator(".thread li.from-holder", { hasText: "已经更新" }).waitFor();
step(`the holder read support's reply on ${ticket} and answered in the thread`);
const failed = holder.locator("#activity-body .attempts li", { hasText: "FOUR_ELEMENTS_PHONE_MISMATCH" }).first();
await failed.locator("button.diagnose").click();
await failed.locator('.diagnosis li[data-check="reserved_phone"][data-result="failed"]').waitFor();
step("the holder's failed bind is in their attempts; its diagnosis names the reserved phone");
await holder.screenshot({ path: `${shots}/wallet-thread.png`, fullPage: true });
clean(holder);

// ---------------------------------------------------------------- API reference
console.log("API reference");
const docs = await newPage({ locale: "en-US" });
await docs.goto(base + "/docs");
await docs.locator("h2", { hasText: "Create a wallet account for a phone number." }).first().waitFor({ timeout: 30000 });
step("/docs renders the OpenAPI document from this server alone");
await docs.screenshot({ path: `${shots}/docs.png` });
clean(docs);

await browser.close();
console.log(`browser journeys: ${steps} steps passed (holder account ${accountId})`);
