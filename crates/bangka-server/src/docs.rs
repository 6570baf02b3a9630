//! Generated documentation: `docs/errors.md` is rendered from the catalog
//! here, and a test fails when the file and the catalog drift apart.

use bangka_core::catalog::{self, PREPARE_FOR_SUPPORT};

pub fn errors_markdown() -> String {
    let mut s = String::from(
        "# Bangka error catalog\n\n\
         <!-- Generated from crates/bangka-core/src/catalog by `BANGKA_BLESS=1 cargo test -p bangka-server --test api catalog::docs`. Do not edit by hand. -->\n\n\
         Every failure of the API carries one of these codes in the envelope\n\
         `{\"error\": {code, category, message, remediation, steps, retry_after?, fix_by, ticket_advised, request_id, attempt_id?, doc_url}}`;\n\
         `steps` repeats the remediation with how each step is carried out (shown in brackets below): a Bangka\n\
         operation, the request corrected and sent again, a retry, or who outside Bangka does it.\n\
         The message and steps come in zh-CN (default) or en, from `Accept-Language`. The server serves the same\n\
         catalog as `GET /v1/errors` and one help page per code at `/help/errors/{code}`.\n\n\
         | code | HTTP | category | fix by | retry_after | ticket |\n|---|---|---|---|---|---|\n",
    );
    let entries: Vec<_> = catalog::entries().collect();
    for e in &entries {
        s.push_str(&format!(
            "| [`{c}`](#{a}) | {} | {:?} | {:?} | {} | {} |\n",
            e.http_status,
            e.category,
            e.fix_by,
            if e.retry == catalog::RetryHint::At { "yes" } else { "" },
            if e.ticket_advised { "advised" } else { "" },
            c = e.code.as_str(),
            a = e.code.as_str().to_ascii_lowercase(),
        ));
    }
    for e in &entries {
        s.push_str(&format!("\n## {}\n\n", e.code.as_str()));
        s.push_str(&format!("- **zh-CN:** {}\n- **en:** {}\n\n", e.message.zh, e.message.en));
        s.push_str(&format!("**Cause.** {}\n\n原因：{}\n\n", e.cause.en, e.cause.zh));
        s.push_str("**Remediation (in order).**\n\n");
        for (i, (t, step)) in e.remediation.iter().zip(e.code.steps()).enumerate() {
            let how = match step {
                catalog::Step::Api(op) => {
                    let (method, path) = op.route();
                    format!("`{method} {path}`")
                }
                catalog::Step::Correct => "correct and send again".into(),
                catalog::Step::Retry => "retry".into(),
                catalog::Step::Outside(p) => {
                    format!("outside Bangka: {}", serde_json::to_value(p).unwrap_or_default().as_str().unwrap_or(""))
                }
                catalog::Step::Advice => "advice".into(),
            };
            s.push_str(&format!("{}. {} / {} [{how}]\n", i + 1, t.en, t.zh));
        }
    }
    s.push_str(
        "\n## What to prepare for support\n\nErrors marked \"ticket advised\" add this list to the envelope as `prepare_for_support`:\n\n",
    );
    for t in PREPARE_FOR_SUPPORT {
        s.push_str(&format!("- {} / {}\n", t.en, t.zh));
    }
    s
}
