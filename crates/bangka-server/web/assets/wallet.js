// The reference wallet: what a holder does with Bangka, through its JSON
// API only (the same calls a wallet app makes). Demo mode signs in as a
// fresh demo holder with a demo wallet key; otherwise a holder session
// token (or a wallet key) and the account id are pasted in.
"use strict";

(() => {
  const { el, clear, $, api, t, busy, showFailure, countdown, when } = Bangka;

  Bangka.addText({
    "zh-CN": {
      skip: "跳到正文", title: "Bangka 钱包", nav_ops: "运营后台", nav_docs: "API 文档", sign_out: "退出",
      start_h: "登录", start_demo_intro: "这是演示环境：测试卡、模拟银行，以及一个收件箱，显示银行发给您的验证码短信。",
      start_demo: "以演示用户开始", start_key_intro: "用持卡人会话令牌（或钱包密钥）和账户编号登录。",
      f_key: "令牌或密钥", f_account: "账户编号", sign_in: "登录",
      account_h: "我的账户", kyc_h: "实名认证", f_real_name: "真实姓名", f_id_number: "身份证号", kyc_submit: "认证", kyc_demo: "使用测试身份",
      password_h: "设置支付密码", f_password: "6 位数字", password_submit: "设置密码",
      cards_h: "我的银行卡", cards_empty: "还没有绑定银行卡。",
      bind_h: "添加银行卡", f_test_card: "测试卡", f_card_number: "卡号", f_holder: "持卡人姓名", f_phone: "银行预留手机号",
      f_expiry: "有效期（月/年）", f_cvv: "安全码（CVV）", bind_submit: "添加银行卡",
      f_code: "验证码", code_submit: "确认", code_voice: "改用语音电话接收验证码", code_resend: "重新发送", code_resend_in: "{s} 秒后可重新发送",
      code_sent: "验证码已发送至 {phone}，{min} 分钟内有效。", code_sent_voice: "我们将致电 {phone} 播报验证码。",
      activity_h: "付款、协议与凭证",
      inbox_h: "手机收件箱（演示）", inbox_intro: "银行和钱包发给这里用过的手机号的短信。", inbox_use: "填入验证码", inbox_empty: "还没有短信。",
      card_ok: "卡号格式正确：{brand} {type}，{issuer}", card_luhn: "卡号有误，请逐位核对", card_short: "请输入 16 到 19 位卡号", card_unknown_bin: "暂不识别这张卡的发卡行",
      phone_label: "手机", kyc_label: "实名", status_label: "状态", password_label: "支付密码", yes: "已设置", no: "未设置",
      kyc: { verified: "已认证", unverified: "未认证", rejected: "未通过", pending: "审核中" },
      status: { active: "正常", frozen: "已冻结", pending_verification: "待验证", unbinding: "解绑冷静期", unbound: "已解绑", deleted: "已删除", failed: "失败", locked: "已锁定", phone_lost: "手机丢失，已冻结" },
      token_label: "支付标记", token_status: { active: "可用", suspended: "已暂停", deleted: "已删除" },
      lost_confirm: "挂失后，银行会收到这张卡的挂失，这张卡在钱包中不能再解冻或付款；以后请绑定银行补发的新卡。只是暂时找不到卡的话，请改用“冻结”，之后可以解冻。", lost_confirm_go: "确认挂失",
      lost_frozen: "这张卡已挂失，不能解冻：请绑定银行补发的新卡，或解绑这张卡。",
      freeze: "冻结", unfreeze: "解冻", report_lost: "挂失（卡丢了）", unbind: "解绑", delete: "删除", revoke: "撤销解绑", test_pay: "小额测试（0.01 元）", pay: "向演示商户付款 12.34 元", payments: "交易记录", continue_code: "继续验证",
      cooling_off: "冷静期剩余 {time}，期间可撤销", cooling_off_over: "冷静期已结束",
      unbind_code: "解绑需要验证码{pw}", with_password: "和支付密码", confirm_unbind: "确认解绑", confirm_delete: "确认删除", cancel: "取消",
      f_payment_password: "支付密码", pay_done: "付款成功：{amount}，状态 {status}", test_pay_ok: "这张卡可以在线支付。", void: "撤销付款", no_payments: "还没有交易。",
      account_freeze: "冻结我的账户", account_unfreeze: "解冻我的账户", freeze_reason: "原因",
      account_reason: { unknown_transactions: "有不认识的交易", phone_lost: "手机丢了", account_compromised: "账户可能被盗", holder_request: "我自己想冻结" },
      tickets_h: "我的工单", receipts_h: "凭证", mandates_h: "自动扣款协议", no_tickets: "没有工单。", no_receipts: "没有凭证。", no_mandates: "没有协议。",
      attempt_other: "其他操作", attempts_h: "最近的操作", no_attempts: "还没有操作记录。", attempt_ok: "成功", diagnose: "查看原因", ask_support: "联系客服",
      attempt_kind: { bind: "绑卡", activate: "激活", confirm: "验证码确认", resend: "重发验证码", cryptogram: "付款授权", payment: "付款", test_authorization: "小额测试", mandate: "自动扣款协议", unfreeze: "解冻卡片", unbind: "解绑", delete: "删除卡片", account_unfreeze: "解冻账户", payment_password: "支付密码", password_reset: "重置支付密码", phone_change: "更换手机号", verify_phone: "验证手机号" },
      diag_result: { passed: "✓", failed: "✗", unknown: "?" },
      thread_open: "查看对话", thread_h: "工单 {n} 的对话", reply: "回复", reply_text: "回复内容", reply_sent: "已发送，客服会在这里回复你。",
      from: { holder: "我", agent: "客服" }, no_messages: "还没有对话。", sep: "：",
      reviews_h: "我的审核", no_reviews: "没有审核。", withdraw: "撤回", review_withdrawn: "已撤回，不会生效。", effective_from: "最早 {time} 生效",
      review_kind: { risk_lock: "风控解锁", bind: "绑卡", unbind: "解绑", info_change: "实名信息修改", kyc: "实名认证", phone_change: "更换手机号", unfreeze: "账户解冻" },
      review_status: { submitted: "审核中", approved: "已通过", rejected: "未通过", withdrawn: "已撤回", void: "已失效" },
      download: "下载", verify: "验证签名", verified_ok: "签名有效（密钥 {key}）", verified_bad: "签名无效：凭证被改动过",
      mandate_new: "与演示健身房签订自动扣款（每次最多 50 元）", mandate_cancel: "取消协议", refresh: "刷新",
      activate_card: "激活这张卡", activation_sent: "激活验证码已发送至 {phone}。", activated: "银行卡已激活，正在重新添加…",
      bind_done: "银行卡已添加：{masked}", unbinding_started: "已进入冷静期，{time} 前可撤销。", revoked: "已撤销解绑，银行卡恢复正常。",
      ticket_note: "{code}：{message}",
      go_kyc: "去实名认证", go_password: "去设置支付密码", go_bind: "重新填写", go_cards: "查看我的卡", go_activity: "查看记录",
      ticket_status: { open: "待处理", escalated: "已升级", resolved: "已解决", closed: "已关闭" },
    },
    en: {
      skip: "Skip to content", title: "Bangka wallet", nav_ops: "Operations", nav_docs: "API", sign_out: "Sign out",
      start_h: "Sign in", start_demo_intro: "This is a demo: test cards, a simulated bank, and an inbox showing the codes the bank would text you.",
      start_demo: "Start as a demo holder", start_key_intro: "Sign in with a holder session token (or a wallet key) and the account id.",
      f_key: "Token or key", f_account: "Account id", sign_in: "Sign in",
      account_h: "My account", kyc_h: "Verify your real name", f_real_name: "Real name", f_id_number: "ID number", kyc_submit: "Verify", kyc_demo: "Use the test identity",
      password_h: "Set a payment password", f_password: "6 digits", password_submit: "Set password",
      cards_h: "My cards", cards_empty: "No cards yet.",
      bind_h: "Add a card", f_test_card: "Test card", f_card_number: "Card number", f_holder: "Name on the card", f_phone: "Phone number the bank has",
      f_expiry: "Expiry (MM/YY)", f_cvv: "Security code (CVV)", bind_submit: "Add card",
      f_code: "Code", code_submit: "Confirm", code_voice: "Call me with the code instead", code_resend: "Send again", code_resend_in: "Send again in {s} s",
      code_sent: "We texted a code to {phone}; it works for {min} minutes.", code_sent_voice: "We will call {phone} and read out the code.",
      activity_h: "Payments, agreements and receipts",
      inbox_h: "Phone inbox (demo)", inbox_intro: "What the bank and the wallet texted to the phones used here.", inbox_use: "Use this code", inbox_empty: "No messages yet.",
      card_ok: "Looks right: {brand} {type}, {issuer}", card_luhn: "This number has a typo; check each digit", card_short: "Enter the 16 to 19 digits", card_unknown_bin: "We do not recognise this card's bank yet",
      phone_label: "Phone", kyc_label: "Real name", status_label: "Status", password_label: "Payment password", yes: "set", no: "not set",
      kyc: { verified: "verified", unverified: "not verified", rejected: "not accepted", pending: "in review" },
      status: { active: "active", frozen: "frozen", pending_verification: "waiting for the code", unbinding: "cooling-off", unbound: "unbound", deleted: "deleted", failed: "failed", locked: "locked", phone_lost: "frozen: phone lost" },
      token_label: "Payment token", token_status: { active: "active", suspended: "suspended", deleted: "deleted" },
      lost_confirm: "Reporting it lost tells the bank, and the card can no longer be unfrozen or pay in the wallet; bind the new card the bank issues instead. If you just cannot find it for now, use Freeze: you can unfreeze it later.", lost_confirm_go: "Report it lost",
      lost_frozen: "This card was reported lost and cannot be unfrozen: bind the new card from your bank, or unbind this one.",
      freeze: "Freeze", unfreeze: "Unfreeze", report_lost: "Report lost", unbind: "Unbind", delete: "Delete", revoke: "Revoke the unbind", test_pay: "Small test (0.01)", pay: "Pay the demo shop 12.34", payments: "Payments", continue_code: "Enter the code",
      cooling_off: "Cooling-off: {time} left to revoke", cooling_off_over: "The cooling-off is over",
      unbind_code: "Unbinding needs the code{pw}", with_password: " and your payment password", confirm_unbind: "Confirm unbind", confirm_delete: "Confirm delete", cancel: "Cancel",
      f_payment_password: "Payment password", pay_done: "Paid {amount}: {status}", test_pay_ok: "This card can pay online.", void: "Void", no_payments: "No payments yet.",
      account_freeze: "Freeze my account", account_unfreeze: "Unfreeze my account", freeze_reason: "Reason",
      account_reason: { unknown_transactions: "Payments I do not recognise", phone_lost: "I lost my phone", account_compromised: "Someone may be in my account", holder_request: "I just want to freeze it" },
      tickets_h: "My tickets", receipts_h: "Receipts", mandates_h: "Autopay agreements", no_tickets: "No tickets.", no_receipts: "No receipts.", no_mandates: "No agreements.",
      attempt_other: "Another operation", attempts_h: "Recent attempts", no_attempts: "Nothing tried yet.", attempt_ok: "went through", diagnose: "What went wrong", ask_support: "Ask support",
      attempt_kind: { bind: "Bind", activate: "Activate", confirm: "Code", resend: "New code", cryptogram: "Payment approval", payment: "Payment", test_authorization: "Test payment", mandate: "Autopay agreement", unfreeze: "Unfreeze the card", unbind: "Unbind", delete: "Delete the card", account_unfreeze: "Unfreeze the account", payment_password: "Payment password", password_reset: "Password reset", phone_change: "Phone change", verify_phone: "Phone verification" },
      diag_result: { passed: "✓", failed: "✗", unknown: "?" },
      thread_open: "Open the conversation", thread_h: "Ticket {n}: the conversation", reply: "Reply", reply_text: "Your reply", reply_sent: "Sent: support will answer here.",
      from: { holder: "Me", agent: "Support" }, no_messages: "No messages yet.", sep: ": ",
      reviews_h: "My reviews", no_reviews: "No reviews.", withdraw: "Withdraw", review_withdrawn: "Withdrawn: it will not take effect.", effective_from: "takes effect no sooner than {time}",
      review_kind: { risk_lock: "risk unlock", bind: "card binding", unbind: "unbind", info_change: "real-name change", kyc: "real-name verification", phone_change: "phone change", unfreeze: "account unfreeze" },
      review_status: { submitted: "in review", approved: "approved", rejected: "not approved", withdrawn: "withdrawn", void: "void" },
      download: "Download", verify: "Verify signature", verified_ok: "Signature valid (key {key})", verified_bad: "Signature invalid: the receipt was changed",
      mandate_new: "Autopay with the demo gym (at most 50.00 a charge)", mandate_cancel: "Cancel agreement", refresh: "Refresh",
      activate_card: "Activate this card", activation_sent: "We texted an activation code to {phone}.", activated: "Card activated; adding it again…",
      bind_done: "Card added: {masked}", unbinding_started: "Cooling-off started; you can revoke until {time}.", revoked: "Unbind revoked; the card is active again.",
      ticket_note: "{code}: {message}",
      go_kyc: "Verify my name", go_password: "Set the password", go_bind: "Edit the card details", go_cards: "See my cards", go_activity: "See the records",
      ticket_status: { open: "open", escalated: "escalated", resolved: "resolved", closed: "closed" },
    },
  });

  const S = {
    account: sessionStorage.getItem("bangka.account") || "",
    phone: sessionStorage.getItem("bangka.phone") || "",
    demoCards: [],
    phones: new Set(JSON.parse(sessionStorage.getItem("bangka.phones") || "[]")),
    code: null, // {kind: "binding"|"activation", id, phone, nextAction, after}
    lastBind: null, // the bind body last sent (for activation and ticket context)
    accountView: null,
    codeInput: null, // the code field shown last: the inbox's "use this code" fills it
  };
  const acc = (p) => "/v1/accounts/" + encodeURIComponent(S.account) + (p || "");

  function remember(phone) {
    if (!phone) return;
    S.phones.add(phone);
    sessionStorage.setItem("bangka.phones", JSON.stringify([...S.phones]));
  }

  function show(id, on) {
    $("#" + id).hidden = !on;
  }

  function money(minor, currency) {
    return (currency === "CNY" || !currency ? "¥" : currency + " ") + (minor / 100).toFixed(2);
  }

  function duration(s) {
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), x = s % 60;
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + x + "s";
  }

  function note(slot, text) {
    clear(slot).append(el("p", { class: "ok", role: "status", text }));
  }

  // ---------------------------------------------------------------- tickets
  /// "Ask support" under a failure: a ticket carrying the attempt, the card
  /// and the code, so support starts from what happened.
  function ticketFor(bindingId) {
    return async (e, result) => {
      const body = { note: t("ticket_note", { code: e.code, message: e.message }) };
      if (e.attempt_id) body.attempt_id = e.attempt_id;
      if (bindingId) body.binding_id = bindingId;
      const r = await api("POST", acc("/tickets"), body);
      if (r.ok) {
        result.textContent = t("ticket_created", { n: r.body.number, due: when(r.body.sla_due_at) });
        result.dataset.ticket = r.body.number;
        refreshActivity();
      } else {
        result.textContent = r.body && r.body.error ? r.body.error.message : t("network_down");
      }
    };
  }

  /// Steps that are Bangka operations the wallet can carry out here, as
  /// buttons beside the step (catalog operation name → what to do).
  function stepActions(extra) {
    const go = (selector) => () => {
      const e = $(selector);
      if (!e) return;
      e.closest("section").hidden = false;
      if (!e.matches("input, select, button, textarea")) e.tabIndex = -1;
      e.scrollIntoView({ block: "center" });
      e.focus();
    };
    return {
      verify_kyc: { label: t("go_kyc"), run: go("#kyc-name") },
      set_payment_password: { label: t("go_password"), run: go("#password") },
      bind: { label: t("go_bind"), run: go("#card-number") },
      list_cards: { label: t("go_cards"), run: go("#cards-h") },
      list_payments: { label: t("go_cards"), run: go("#cards-h") },
      list_receipts: { label: t("go_activity"), run: go("#activity-h") },
      list_mandates: { label: t("go_activity"), run: go("#activity-h") },
      resend_code: { label: t("code_resend"), run: () => resendCode(null) },
      ...(extra || {}),
    };
  }

  function fail(slot, res, bindingId, actions) {
    showFailure(slot, res, { onTicket: ticketFor(bindingId), actions: stepActions(actions) });
    // What stands in the way, each in the holder's words with its date (a
    // refused unbind names its mandates, payments and funds in transit),
    // before the general remedies.
    const blockers = res.body && res.body.error && res.body.error.details && res.body.error.details.blockers;
    if (Array.isArray(blockers) && blockers.length && slot.firstChild) {
      const list = el("ul", { class: "blockers" }, blockers.map((x) => el("li", { dataset: { blocker: x.type }, text: x.resolve })));
      slot.firstChild.insertBefore(list, slot.firstChild.children[1] || null);
    }
  }

  // ---------------------------------------------------------------- sign-in
  async function startDemo(ev) {
    await busy(ev.currentTarget, async () => {
      const k = await api("POST", "/v1/demo/keys", { role: "wallet" }, { key: "" });
      if (!k.ok) return showFailure($("#start-result"), k);
      Bangka.setKey(k.body.key);
      const phone = "137" + String(Math.floor(Math.random() * 1e8)).padStart(8, "0");
      const a = await api("POST", "/v1/accounts", { phone, phone_verified_by: "wallet" });
      if (!a.ok) return showFailure($("#start-result"), a);
      signedIn(a.body.id, phone);
    });
  }

  function signedIn(account, phone) {
    S.account = account;
    S.phone = phone || "";
    sessionStorage.setItem("bangka.account", account);
    if (phone) sessionStorage.setItem("bangka.phone", phone);
    remember(phone);
    loadAccount();
  }

  function signOut() {
    Bangka.setKey("");
    sessionStorage.clear();
    location.reload();
  }

  // ---------------------------------------------------------------- account
  async function loadAccount() {
    const r = await api("GET", acc());
    if (!r.ok) {
      show("start", true);
      return showFailure($("#start-result"), r);
    }
    S.accountView = r.body;
    show("start", false);
    show("sign-out", true);
    ["account", "cards", "bind", "activity"].forEach((s) => show(s, true));
    if (Bangka.DEMO) show("inbox", true);
    renderAccount();
    refreshCards();
    refreshActivity();
  }

  function renderAccount() {
    const a = S.accountView;
    const facts = clear($("#account-facts"));
    const fact = (k, v, cls) => facts.append(el("dt", { text: t(k) }), el("dd", { class: cls, text: v }));
    fact("phone_label", a.phone_masked);
    fact("kyc_label", t("kyc." + a.kyc_status) + (a.real_name_masked ? " · " + a.real_name_masked : ""), "kyc-status");
    fact("status_label", t("status." + a.status) || a.status, "account-status");
    fact("password_label", a.payment_password_set ? t("yes") : t("no"));
    $("#kyc-form").hidden = a.kyc_status === "verified";
    $("#password-form").hidden = a.payment_password_set || a.kyc_status !== "verified";
    const actions = clear($("#account-actions"));
    if (a.status === "frozen") {
      actions.append(el("button", { type: "button", class: "secondary", onclick: accountUnfreeze, text: t("account_unfreeze") }));
    } else {
      const reason = el("select", { id: "account-freeze-reason", "aria-label": t("freeze_reason") },
        ["holder_request", "unknown_transactions", "phone_lost", "account_compromised"].map((r) => el("option", { value: r, text: t("account_reason." + r) })));
      actions.append(reason, el("button", { type: "button", class: "danger", onclick: accountFreeze, text: t("account_freeze") }));
    }
  }

  async function accountFreeze(ev) {
    await busy(ev.currentTarget, async () => {
      const r = await api("POST", acc("/freeze"), { reason: $("#account-freeze-reason").value });
      if (!r.ok) return fail($("#account-result"), r);
      clear($("#account-result"));
      loadAccount();
    });
  }

  async function accountUnfreeze(ev) {
    await busy(ev.currentTarget, async () => {
      const r = await api("POST", acc("/unfreeze"), {});
      if (!r.ok) return fail($("#account-result"), r);
      clear($("#account-result"));
      loadAccount();
    });
  }

  async function submitKyc(ev) {
    ev.preventDefault();
    await busy(ev.submitter || $("#kyc-form button"), async () => {
      const r = await api("POST", acc("/kyc"), { real_name: $("#kyc-name").value.trim(), id_number: $("#kyc-id").value.trim().toUpperCase() });
      if (!r.ok) return fail($("#account-result"), r);
      clear($("#account-result"));
      S.accountView = r.body;
      renderAccount();
    });
  }

  async function submitPassword(ev) {
    ev.preventDefault();
    await busy(ev.submitter || $("#password-form button"), async () => {
      const r = await api("POST", acc("/payment-password"), { password: $("#password").value });
      if (!r.ok) return fail($("#account-result"), r);
      $("#password").value = "";
      clear($("#account-result"));
      S.accountView = r.body;
      renderAccount();
    });
  }

  // ---------------------------------------------------------------- demo cards
  async function loadDemoCards() {
    if (!Bangka.DEMO) return;
    const r = await api("GET", "/v1/demo/cards?limit=100");
    if (!r.ok) return;
    S.demoCards = r.body.data;
    const sel = clear($("#test-card"));
    sel.append(el("option", { value: "", text: "—" }));
    for (const c of S.demoCards) sel.append(el("option", { value: c.scenario, text: c.scenario + " · " + c.issuer + " · " + c.card_type }));
  }

  function pickTestCard() {
    const c = S.demoCards.find((x) => x.scenario === $("#test-card").value);
    $("#test-card-note").textContent = c ? c.note : "";
    if (!c) return;
    $("#card-number").value = groups(c.card_number);
    $("#holder-name").value = c.holder_name;
    $("#bind-id").value = c.id_number;
    $("#bind-phone").value = c.phone;
    $("#expiry").value = c.expiry || "";
    $("#cvv").value = c.cvv || "";
    checkCardNumber();
  }

  function fillTestIdentity() {
    const c = S.demoCards.find((x) => x.scenario === "ok_debit") || S.demoCards[0];
    if (!c) return;
    $("#kyc-name").value = c.holder_name;
    $("#kyc-id").value = c.id_number;
  }

  // ---------------------------------------------------------------- card number
  const groups = (digits) => digits.replace(/\D/g, "").replace(/(\d{4})(?=\d)/g, "$1 ");

  function luhn(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; i++) {
      let d = +digits[digits.length - 1 - i];
      if (i % 2 === 1) {
        d *= 2;
        if (d > 9) d -= 9;
      }
      sum += d;
    }
    return sum % 10 === 0;
  }

  let issuers = null;
  async function bins() {
    if (!issuers) {
      const r = await api("GET", "/v1/issuers");
      issuers = r.ok ? r.body.issuers : [];
    }
    return issuers;
  }

  /// Formats the number in groups of four as it is typed and says at once
  /// whether it can be right (length, check digit, a bank we know).
  async function checkCardNumber() {
    const input = $("#card-number");
    const digits = input.value.replace(/\D/g, "").slice(0, 19);
    const caret = input.selectionStart === input.value.length;
    input.value = groups(digits);
    if (caret) input.selectionStart = input.selectionEnd = input.value.length;
    const out = $("#card-check");
    out.className = "hint";
    if (digits.length < 16) {
      out.textContent = digits.length ? t("card_short") : "";
      return;
    }
    if (!luhn(digits)) {
      out.textContent = t("card_luhn");
      out.className = "hint bad";
      return;
    }
    const list = await bins();
    let found = null;
    for (const i of list) for (const b of i.bins) if (digits.startsWith(b.prefix) && (!found || b.prefix.length > found.b.prefix.length)) found = { i, b };
    if (!found) {
      out.textContent = t("card_unknown_bin");
      return;
    }
    const name = Bangka.language() === "zh-CN" ? found.i.name["zh-CN"] : found.i.name.en;
    out.textContent = t("card_ok", { brand: found.b.brand, type: found.b.type, issuer: name });
    out.className = "hint good";
    $(".credit-only").hidden = found.b.type !== "credit";
  }

  // ---------------------------------------------------------------- bind
  function bindBody() {
    const body = {
      card_number: $("#card-number").value.replace(/\D/g, ""),
      holder_name: $("#holder-name").value.trim(),
      id_number: $("#bind-id").value.trim().toUpperCase(),
      phone: $("#bind-phone").value.trim(),
    };
    if ($("#expiry").value) body.expiry = $("#expiry").value.trim();
    if ($("#cvv").value) body.cvv = $("#cvv").value.trim();
    return body;
  }

  async function submitBind(ev) {
    ev.preventDefault();
    await busy($("#bind-submit"), () => sendBind(bindBody()));
  }

  async function sendBind(body) {
    S.lastBind = body;
    remember(body.phone);
    const r = await api("POST", acc("/bindings"), body);
    if (!r.ok) {
      // A card that is not activated yet: offer the activation the steps name.
      return fail($("#bind-result"), r, r.body && r.body.error && r.body.error.details ? r.body.error.details.binding_id : null, {
        activate: { label: t("activate_card"), run: startActivation },
      });
    }
    clear($("#bind-result"));
    if (r.body.status === "active") return bound(r.body);
    askCode({ kind: "binding", id: r.body.id, nextAction: r.body.next_action, phone: body.phone });
  }

  function bound(b) {
    $("#code-form").hidden = true;
    $("#bind-form").hidden = false;
    $("#bind-form").reset();
    $("#card-check").textContent = "";
    note($("#bind-result"), t("bind_done", { masked: b.card.masked }));
    refreshCards();
  }

  let stopResend = null;
  function askCode(c) {
    S.code = c;
    $("#bind-form").hidden = true;
    $("#code-form").hidden = false;
    $("#code").value = "";
    S.codeInput = $("#code");
    const na = c.nextAction;
    const min = Math.max(1, Math.round(Bangka.secondsUntil(na.expires_at) / 60));
    $("#code-sent").textContent = (c.kind === "activation" ? t("activation_sent", { phone: na.masked_phone }) : "") + " " +
      (na.kind === "voice_code" ? t("code_sent_voice", { phone: na.masked_phone }) : t("code_sent", { phone: na.masked_phone, min }));
    const resend = $("#code-resend");
    if (stopResend) stopResend();
    resend.disabled = true;
    stopResend = countdown(resend, na.resend_available_at, (s) => (s > 0 ? t("code_resend_in", { s }) : t("code_resend")), () => (resend.disabled = false));
    $("#code").focus();
  }

  async function resendCode(channel) {
    const c = S.code;
    if (!c) return;
    // A binding's code and an activation's are resent the same way, by
    // text or by a call.
    const path = c.kind === "binding" ? acc("/bindings/" + c.id + "/otp/resend") : acc("/activations/" + c.id + "/otp/resend");
    const r = await api("POST", path, channel ? { channel } : {});
    if (!r.ok) return fail($("#bind-result"), r, c.kind === "binding" ? c.id : null);
    clear($("#bind-result"));
    askCode({ ...c, nextAction: r.body.next_action });
  }

  async function submitCode(ev) {
    ev.preventDefault();
    const c = S.code;
    await busy($("#code-submit"), async () => {
      const otp = $("#code").value.trim();
      const path = c.kind === "binding" ? acc("/bindings/" + c.id + "/confirm") : acc("/activations/" + c.id + "/confirm");
      const r = await api("POST", path, { otp });
      if (!r.ok) return fail($("#bind-result"), r, c.kind === "binding" ? c.id : null);
      clear($("#bind-result"));
      if (c.kind === "activation") {
        // The bank has not confirmed yet: its words, and no bind until it has.
        if (r.body.status === "activating") {
          $("#code-form").hidden = true;
          return note($("#bind-result"), r.body.confirmation.message);
        }
        note($("#bind-result"), t("activated"));
        $("#code-form").hidden = true;
        return sendBind(S.lastBind);
      }
      if (stopResend) stopResend();
      bound(r.body);
    });
  }

  async function startActivation() {
    const body = { ...S.lastBind };
    delete body.expiry;
    delete body.cvv;
    const r = await api("POST", acc("/activations"), body);
    if (!r.ok) return fail($("#bind-result"), r);
    clear($("#bind-result"));
    askCode({ kind: "activation", id: r.body.id, nextAction: r.body.next_action, phone: body.phone });
  }

  // ---------------------------------------------------------------- cards
  async function refreshCards() {
    const r = await api("GET", acc("/bindings?limit=100"));
    if (!r.ok) return fail($("#cards-result"), r);
    const list = clear($("#card-list"));
    const cards = r.body.data.filter((b) => b.status !== "failed" && b.status !== "deleted");
    $("#cards-empty").hidden = cards.length > 0;
    for (const b of cards) list.append(cardItem(b));
  }

  function cardItem(b) {
    const li = el("li", { class: "card status-" + b.status, dataset: { binding: b.id, status: b.status } });
    li.append(
      el("div", { class: "card-face" },
        el("span", { class: "card-issuer", text: b.card.issuer }),
        el("span", { class: "card-number", text: b.card.masked }),
        el("span", { class: "card-meta", text: b.card.brand + " · " + b.card.type }),
      ),
      el("p", { class: "card-status" },
        el("span", { class: "badge", text: t("status." + b.status) }),
        b.token ? [" ", el("span", { class: "hint", text: t("token_label") + ": " + (t("token_status." + b.token.status) || b.token.status) })] : null,
      ),
    );
    const actions = el("div", { class: "row card-actions" });
    const slot = el("div", { class: "slot" });
    const button = (label, f, cls) => el("button", { type: "button", class: cls || "secondary", onclick: (ev) => busy(ev.currentTarget, () => f(b, slot)), text: t(label) });
    if (b.status === "active") {
      actions.append(button("pay", pay), button("test_pay", testPay), button("payments", payments), button("freeze", (x, s) => freeze(x, s, "holder_request")),
        button("report_lost", confirmLost, "danger"), button("unbind", unbind));
    } else if (b.status === "frozen" && (b.frozen_reason === "card_lost" || b.frozen_reason === "card_stolen")) {
      // Reported to the bank: never unfrozen, so no button that cannot work.
      actions.append(el("p", { class: "hint lost-frozen", text: t("lost_frozen") }), button("unbind", unbind));
    } else if (b.status === "frozen") {
      actions.append(button("unfreeze", unfreeze), button("unbind", unbind));
    } else if (b.status === "unbinding") {
      const left = el("span", { class: "cooling-off" });
      countdown(left, b.cooling_off_ends_at, (s) => (s > 0 ? t("cooling_off", { time: duration(s) }) : t("cooling_off_over")));
      actions.append(left, button("revoke", revoke, "primary"));
    } else if (b.status === "unbound") {
      actions.append(button("delete", removeCard, "danger"));
    } else if (b.status === "pending_verification" && b.next_action) {
      actions.append(button("continue_code", () => askCode({ kind: "binding", id: b.id, nextAction: b.next_action })));
    }
    li.append(actions, slot);
    return li;
  }

  /// Reporting a card lost cannot be undone: the consequences first, then
  /// the holder's own confirmation.
  function confirmLost(b, slot) {
    const go = el("button", { type: "button", class: "danger confirm-lost", onclick: (ev) => busy(ev.currentTarget, () => freeze(b, slot, "card_lost")), text: t("lost_confirm_go") });
    clear(slot).append(el("div", { class: "confirm", role: "alertdialog" }, el("p", { text: t("lost_confirm") }),
      el("div", { class: "row" }, go, el("button", { type: "button", class: "secondary", onclick: () => clear(slot), text: t("cancel") }))));
    go.focus();
  }

  async function freeze(b, slot, reason) {
    const r = await api("POST", acc("/bindings/" + b.id + "/freeze"), { reason });
    if (!r.ok) return fail(slot, r, b.id);
    await refreshCards();
    // A lost card the bank has not been told about yet: say so, and what to do.
    if (r.body.issuer_advice) note($("#cards-result"), r.body.issuer_advice);
  }

  async function unfreeze(b, slot) {
    const r = await api("POST", acc("/bindings/" + b.id + "/unfreeze"), {});
    if (!r.ok) return fail(slot, r, b.id);
    refreshCards();
  }

  async function testPay(b, slot) {
    const r = await api("POST", acc("/bindings/" + b.id + "/test-authorization"));
    if (!r.ok) return fail(slot, r, b.id);
    note(slot, r.body.can_pay_online === false ? (r.body.reason && r.body.reason.message) || "" : t("test_pay_ok"));
  }

  /// Asks for one or two secrets inline (code, payment password) and runs `go`.
  function ask(slot, fields, submitLabel, go) {
    const inputs = {};
    const form = el("form", { class: "stack inline-form" });
    for (const [name, label, type] of fields) {
      inputs[name] = el("input", { type: type || "text", inputmode: "numeric", maxlength: 6, required: true, autocomplete: type === "password" ? "current-password" : "one-time-code", class: "field-" + name });
      form.append(el("label", {}, el("span", { text: t(label) }), inputs[name]));
    }
    const submit = el("button", { type: "submit", text: t(submitLabel) });
    form.append(el("div", { class: "row" }, submit, el("button", { type: "button", class: "secondary", onclick: () => clear(slot), text: t("cancel") })));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(submit, () => go(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, v.value.trim()]))));
    });
    clear(slot).append(form);
    if (inputs.otp) S.codeInput = inputs.otp;
    form.querySelector("input").focus();
  }

  async function pay(b, slot) {
    ask(slot, [["payment_password", "f_payment_password", "password"]], "pay", async (v) => {
      const terms = { amount: 1234, currency: "CNY", merchant_id: "m_demo_shop" };
      const c = await api("POST", acc("/bindings/" + b.id + "/cryptograms"), { ...terms, payment_password: v.payment_password });
      if (!c.ok) return fail(slot, c, b.id);
      const p = await api("POST", "/v1/payments", { ...terms, cryptogram: c.body.cryptogram, token_number: c.body.token_number });
      if (!p.ok) return fail(slot, p, b.id);
      if (p.body.confirmation) {
        // The bank's answer was lost: Bangka is asking it; say so, not "paid".
        const when_ = Bangka.when(p.body.confirmation.check_again_at);
        clear(slot).append(el("p", { class: "retry", role: "status", text: p.body.confirmation.message + " (" + when_ + ")" }));
      } else {
        note(slot, t("pay_done", { amount: money(p.body.amount.minor, p.body.amount.currency), status: p.body.status }));
      }
      refreshActivity();
    });
  }

  async function payments(b, slot) {
    const r = await api("GET", acc("/bindings/" + b.id + "/payments?limit=20"));
    if (!r.ok) return fail(slot, r, b.id);
    const rows = r.body.data;
    if (!rows.length) return note(slot, t("no_payments"));
    const list = el("ul", { class: "plain payments" });
    for (const p of rows) {
      const li = el("li", {}, el("span", { text: when(p.created_at) + " · " + p.merchant_id + " · " + money(p.amount.minor, p.amount.currency) + " · " + p.status }));
      if (p.status === "authorized") {
        li.append(" ", el("button", { type: "button", class: "link", onclick: async () => {
          const v = await api("POST", "/v1/payments/" + p.id + "/void");
          if (!v.ok) return fail(slot, v, b.id);
          payments(b, slot);
        }, text: t("void") }));
      }
      list.append(li);
    }
    clear(slot).append(list);
  }

  async function unbind(b, slot) {
    const r = await api("POST", acc("/bindings/" + b.id + "/unbind"), {});
    if (!r.ok) return fail(slot, r, b.id);
    const needsPassword = (r.body.verification || []).includes("payment_password");
    const fields = [["otp", "f_code"]];
    if (needsPassword) fields.push(["payment_password", "f_payment_password", "password"]);
    ask(slot, fields, "confirm_unbind", async (v) => {
      const c = await api("POST", acc("/bindings/" + b.id + "/unbind/confirm"), v);
      if (!c.ok) return fail(slot, c, b.id);
      refreshCards();
    });
    slot.prepend(el("p", { role: "status", text: t("unbind_code", { pw: needsPassword ? t("with_password") : "" }) + " (" + r.body.next_action.masked_phone + ")" }));
  }

  async function revoke(b, slot) {
    const r = await api("POST", acc("/bindings/" + b.id + "/unbind/revoke"));
    if (!r.ok) return fail(slot, r, b.id);
    refreshCards();
    note($("#cards-result"), t("revoked"));
  }

  async function removeCard(b, slot) {
    const r = await api("POST", acc("/bindings/" + b.id + "/delete"));
    if (!r.ok) return fail(slot, r, b.id);
    ask(slot, [["otp", "f_code"], ["payment_password", "f_payment_password", "password"]], "confirm_delete", async (v) => {
      const c = await api("POST", acc("/bindings/" + b.id + "/delete/confirm"), v);
      if (!c.ok) return fail(slot, c, b.id);
      refreshCards();
    });
  }

  // ---------------------------------------------------------------- activity
  async function refreshActivity() {
    if (!S.account) return;
    const body = clear($("#activity-body"));
    const [tickets, receipts, mandates, reviews, attempts] = await Promise.all([api("GET", acc("/tickets?limit=20")), api("GET", acc("/receipts?limit=20")), api("GET", acc("/mandates?limit=100")), api("GET", acc("/reviews?limit=20")), api("GET", acc("/attempts?limit=10"))]);

    // The holder's own attempts: what they were told, and for a failed one
    // the diagnosis and a ticket that carries it.
    body.append(el("h3", { text: t("attempts_h") }));
    const al = (attempts.ok && attempts.body.data) || [];
    const alist = el("ul", { class: "plain attempts" });
    for (const a of al) {
      // Every kind the server records has its words; an unknown one (a newer
      // server) is shown as "an operation", never as its English name.
      const kind = t("attempt_kind." + a.kind);
      const what = (kind.startsWith("attempt_kind.") ? t("attempt_other") : kind) + (a.card_masked ? " " + a.card_masked : "");
      const li = el("li", { dataset: { attempt: a.id } }, when(a.at) + " · " + what + " · ", a.succeeded ? t("attempt_ok") : el("span", {}, el("code", { text: a.code }), " " + (a.message || "")));
      if (!a.succeeded) {
        const out = el("div", { class: "slot" });
        li.append(" ",
          el("button", { type: "button", class: "link diagnose", onclick: () => diagnose(a, out), text: t("diagnose") }), " ",
          el("button", { type: "button", class: "link ask-support", onclick: () => askAbout(a, out), text: t("ask_support") }), out);
      }
      alist.append(li);
    }
    body.append(al.length ? alist : el("p", { class: "hint", text: t("no_attempts") }));

    body.append(el("h3", { text: t("tickets_h") }));
    const tl = (tickets.ok && tickets.body.data) || [];
    const tlist = el("ul", { class: "plain tickets" });
    for (const x of tl) {
      const out = el("div", { class: "slot" });
      tlist.append(el("li", { dataset: { ticket: x.number } }, el("code", { text: x.number }), " · " + t("ticket_status." + x.status) + " · " + (x.note || "") + " · " + when(x.sla_due_at) + " ",
        el("button", { type: "button", class: "link thread-open", onclick: () => thread(x.number, out), text: t("thread_open") }), out));
    }
    body.append(tl.length ? tlist : el("p", { class: "hint", text: t("no_tickets") }));

    // Reviews, with a way to withdraw one still waiting: a lost-phone change
    // someone else sent is stopped here during its waiting period.
    body.append(el("h3", { text: t("reviews_h") }));
    const vl = (reviews.ok && reviews.body.data) || [];
    const vlist = el("ul", { class: "plain reviews" });
    for (const v of vl) {
      const li = el("li", { dataset: { review: v.id } }, el("code", { text: v.id }), " · " + t("review_kind." + v.kind) + " · " + t("review_status." + v.status) + " · " + when(v.created_at));
      if (v.approvable_from) li.append(" · " + t("effective_from", { time: when(v.approvable_from) }));
      if (v.status === "submitted") li.append(" ", el("button", { type: "button", class: "link", onclick: async () => {
        const r = await api("POST", acc("/reviews/" + encodeURIComponent(v.id) + "/withdraw"));
        if (!r.ok) return fail($("#activity-result"), r);
        note($("#activity-result"), t("review_withdrawn"));
        refreshActivity();
      }, text: t("withdraw") }));
      vlist.append(li);
    }
    body.append(vl.length ? vlist : el("p", { class: "hint", text: t("no_reviews") }));

    body.append(el("h3", { text: t("mandates_h") }));
    const ml = (mandates.ok && mandates.body.data) || [];
    const mlist = el("ul", { class: "plain" });
    for (const m of ml) {
      const li = el("li", {}, m.merchant_id + " · " + m.kind + " · " + m.status);
      if (m.status === "active") li.append(" ", el("button", { type: "button", class: "link", onclick: async () => {
        const r = await api("POST", acc("/mandates/" + m.id + "/cancel"));
        if (!r.ok) return fail($("#activity-result"), r);
        refreshActivity();
      }, text: t("mandate_cancel") }));
      mlist.append(li);
    }
    body.append(ml.length ? mlist : el("p", { class: "hint", text: t("no_mandates") }));
    body.append(el("button", { type: "button", class: "secondary", onclick: newMandate, text: t("mandate_new") }));

    body.append(el("h3", { text: t("receipts_h") }));
    const rl = (receipts.ok && receipts.body.data) || [];
    if (!rl.length) body.append(el("p", { class: "hint", text: t("no_receipts") }));
    const rlist = el("ul", { class: "plain receipts" });
    for (const doc of rl) {
      const out = el("span", { class: "verdict", role: "status" });
      const file = new Blob([JSON.stringify(doc, null, 2)], { type: "application/json" });
      rlist.append(el("li", {},
        (doc.receipt.operation || "receipt") + " · " + when(doc.receipt.at) + " ",
        el("a", { href: URL.createObjectURL(file), download: "receipt-" + doc.receipt.id + ".json", text: t("download") }), " ",
        el("button", { type: "button", class: "link", onclick: () => verifyReceipt(doc, out), text: t("verify") }), " ", out));
    }
    body.append(rlist);
  }

  /// The diagnosis of a failed attempt: each check on the live state, and
  /// what to do where one failed.
  async function diagnose(a, out) {
    const r = await api("GET", a.diagnose.path);
    if (!r.ok) return fail(out, r);
    const list = el("ul", { class: "plain diagnosis" });
    for (const i of r.body.items) {
      const li = el("li", { dataset: { check: i.name, result: i.result } }, t("diag_result." + i.result) + " " + i.title + t("sep") + i.summary);
      if (i.remedy.length) li.append(el("ol", {}, i.remedy.map((s) => el("li", { text: s }))));
      list.append(li);
    }
    clear(out).append(list);
  }

  /// A ticket about one attempt: support gets the attempt, its card and its
  /// diagnosis with it.
  async function askAbout(a, out) {
    const r = await api("POST", a.ask_support.path, { attempt_id: a.id, note: t("ticket_note", { code: a.code, message: a.message || "" }) });
    if (!r.ok) return fail(out, r);
    note(out, t("ticket_created", { n: r.body.number, due: when(r.body.sla_due_at) }));
    refreshActivity();
  }

  /// A ticket's conversation, and a reply to it.
  async function thread(number, out) {
    const r = await api("GET", acc("/tickets/" + encodeURIComponent(number)));
    if (!r.ok) return fail(out, r);
    const box = clear(out);
    box.append(el("h4", { text: t("thread_h", { n: number }) }));
    const msgs = r.body.messages || [];
    box.append(msgs.length
      ? el("ul", { class: "plain thread" }, msgs.map((m) => el("li", { class: "from-" + m.from }, el("strong", { text: t("from." + m.from) }), " · " + when(m.at) + t("sep") + m.text)))
      : el("p", { class: "hint", text: t("no_messages") }));
    if (r.body.status === "closed") return;
    const text = el("textarea", { rows: 3, maxlength: 2000, required: true, class: "field-reply" });
    const submit = el("button", { type: "submit", text: t("reply") });
    const form = el("form", { class: "stack inline-form reply" }, el("label", {}, el("span", { text: t("reply_text") }), text), submit);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      busy(submit, async () => {
        const s = await api("POST", acc("/tickets/" + encodeURIComponent(number) + "/messages"), { text: text.value.trim() });
        if (!s.ok) return fail(out, s);
        await thread(number, out);
        out.append(el("p", { class: "ok", role: "status", text: t("reply_sent") }));
      });
    });
    box.append(form);
  }

  async function newMandate(ev) {
    const r = await api("GET", acc("/bindings?limit=100"));
    const card = r.ok && r.body.data.find((b) => b.status === "active");
    if (!card) return;
    ask($("#activity-result"), [["payment_password", "f_payment_password", "password"]], "mandate_new", async (v) => {
      const m = await api("POST", acc("/mandates"), { binding_id: card.id, merchant_id: "m_demo_gym", kind: "subscription", max_amount: 5000, currency: "CNY", payment_password: v.payment_password });
      if (!m.ok) return fail($("#activity-result"), m, card.id);
      clear($("#activity-result"));
      refreshActivity();
    });
  }

  // RFC 8785: object keys sorted by UTF-16 code units, ECMAScript number and
  // string forms; exactly what JSON.stringify writes once keys are sorted.
  function canonical(v) {
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    if (v && typeof v === "object") return "{" + Object.keys(v).sort().map((k) => JSON.stringify(k) + ":" + canonical(v[k])).join(",") + "}";
    return JSON.stringify(v);
  }
  const unhex = (h) => new Uint8Array(h.match(/../g).map((x) => parseInt(x, 16)));

  /// Checks a receipt's Ed25519 signature in the browser against the key
  /// this server publishes (as `bangka receipt verify` does offline).
  async function verifyReceipt(doc, out) {
    const pk = await api("GET", "/v1/receipts/public-key");
    try {
      if (!pk.ok || pk.body.public_key !== doc.signature.public_key) throw new Error("key");
      const key = await crypto.subtle.importKey("raw", unhex(pk.body.public_key), { name: "Ed25519" }, false, ["verify"]);
      const ok = await crypto.subtle.verify({ name: "Ed25519" }, key, unhex(doc.signature.value), new TextEncoder().encode(canonical(doc.receipt)));
      out.textContent = ok ? t("verified_ok", { key: pk.body.key_id }) : t("verified_bad");
      out.className = "verdict " + (ok ? "good" : "bad");
    } catch (_) {
      out.textContent = t("verified_bad");
      out.className = "verdict bad";
    }
  }

  // ---------------------------------------------------------------- inbox
  async function pollInbox() {
    if (!Bangka.DEMO || !S.account || $("#inbox").hidden) return;
    const list = $("#inbox-list");
    const messages = [];
    for (const phone of S.phones) {
      const r = await api("GET", "/v1/demo/inbox/" + encodeURIComponent(phone));
      if (r.ok) messages.push(...r.body.messages.map((m) => ({ ...m, phone })));
    }
    messages.sort((a, b) => (a.received_at < b.received_at ? 1 : -1));
    const sig = messages.map((m) => m.id).join();
    if (list.dataset.sig === sig) return;
    list.dataset.sig = sig;
    clear(list);
    if (!messages.length) list.append(el("li", { class: "hint", text: t("inbox_empty") }));
    for (const m of messages.slice(0, 20)) {
      const code = (m.body.match(/\b\d{6}\b/) || [])[0];
      list.append(el("li", { class: "message", dataset: { code: code || "" } },
        el("p", { class: "message-head", text: m.to + " · " + m.channel + " · " + when(m.received_at) }),
        el("p", { class: "message-body", text: m.body }),
        code ? el("button", { type: "button", class: "link use-code", onclick: () => {
          const field = S.codeInput && document.contains(S.codeInput) ? S.codeInput : $("#code");
          field.value = code;
          field.focus();
        }, text: t("inbox_use") }) : null));
    }
  }

  // ---------------------------------------------------------------- start
  document.addEventListener("DOMContentLoaded", () => {
    for (const e of document.querySelectorAll(".demo-only")) if (!Bangka.DEMO) e.hidden = true;
    $("#start-demo").addEventListener("click", startDemo);
    $("#activity-refresh").addEventListener("click", () => refreshActivity());
    $("#start-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      Bangka.setKey($("#start-key").value.trim());
      signedIn($("#start-account").value.trim(), "");
    });
    $("#sign-out").addEventListener("click", signOut);
    $("#kyc-form").addEventListener("submit", submitKyc);
    $("#kyc-demo").addEventListener("click", fillTestIdentity);
    $("#password-form").addEventListener("submit", submitPassword);
    $("#test-card").addEventListener("change", pickTestCard);
    $("#card-number").addEventListener("input", checkCardNumber);
    $("#bind-form").addEventListener("submit", submitBind);
    $("#code-form").addEventListener("submit", submitCode);
    $("#code-resend").addEventListener("click", () => resendCode(null));
    $("#code-voice").addEventListener("click", () => resendCode("voice"));
    Bangka.onLanguage(() => {
      if (S.accountView) renderAccount();
      if (S.account) {
        refreshCards();
        refreshActivity();
      }
    });
    loadDemoCards();
    if (S.account && Bangka.currentKey()) loadAccount();
    else show("start", true);
    setInterval(pollInbox, 1500);
  });
})();
