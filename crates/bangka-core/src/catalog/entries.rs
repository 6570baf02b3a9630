//! The catalog's entries, one per [`ErrorCode`]. Wording rules: speak to the holder, name the cause precisely,
//! never blame vaguely, never echo card numbers, ID numbers or codes; remediation steps are concrete actions in order.
use super::code::{Category, Entry, ErrorCode, FixBy, RetryHint, Text};

const fn t(zh: &'static str, en: &'static str) -> Text {
    Text { zh, en }
}

pub(super) const ENTRIES: &[Entry] = &[
    // ------------------------------------------------------------------
    // input: the request itself is wrong
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::MalformedRequest,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "请求内容无法解析：不是有效的 JSON，或有字段缺失、类型错误或超出长度限制。",
            "The request could not be read: the body is not valid JSON, or a field is missing, has the wrong type or is too long.",
        ),
        cause: t(
            "Bangka 只接受符合接口文档的 JSON 请求体。请求体语法错误、缺少必填字段、字段类型不符或超过长度上限时，请求在处理前即被拒绝，不会产生任何变更。",
            "Bangka only accepts JSON bodies that match the API reference. A syntax error, a missing required field, a field of the wrong type or a value over its length limit stops the request before any processing, so nothing was changed.",
        ),
        remediation: &[
            t(
                "如果响应中指出了出错的字段，先检查该字段，并对照接口文档修正请求体。",
                "If the response names a field, start there and correct the request body against the API reference.",
            ),
            t(
                "确认请求体是合法的 JSON，字段名、类型和长度都与文档一致。",
                "Make sure the body is valid JSON and that field names, types and lengths match the reference.",
            ),
            t("修正后重新发送请求；这次失败没有产生任何变更。", "Send the corrected request again; the failed one changed nothing."),
            t(
                "如果您是持卡人并看到此提示，请将钱包应用更新到最新版本后重试；仍然失败请联系钱包客服并提供请求编号。",
                "If you are a cardholder seeing this, update the wallet app to the latest version and try again; if it still fails, contact wallet support with the request id.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnknownField,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "请求中有接口不认识的字段，可能是字段名拼写错误：请求未被处理。",
            "The request has a field the API does not know, perhaps a misspelled name: it was not processed.",
        ),
        cause: t(
            "Bangka 只接受接口文档列出的字段。多出的字段不会被悄悄忽略：拼错的字段名（例如把 language 写成 langauge）若被忽略，请求会按默认值执行，结果与您的本意不同。因此请求在处理前即被拒绝，没有产生任何变更。",
            "Bangka only accepts the fields the API reference lists. An extra field is not silently ignored: a misspelled name (langauge for language, say) would otherwise run the request with a default you did not mean. So the request was stopped before any processing, and nothing was changed.",
        ),
        remediation: &[
            t(
                "查看响应中 details.field 指出的字段，对照接口文档改正字段名，或去掉该字段。",
                "Look at the field named in details.field and correct its name against the API reference, or remove it.",
            ),
            t("修正后重新发送请求；这次失败没有产生任何变更。", "Send the corrected request again; the failed one changed nothing."),
            t(
                "如果您是持卡人并看到此提示，请将钱包应用更新到最新版本后重试；仍然失败请联系钱包客服并提供请求编号。",
                "If you are a cardholder seeing this, update the wallet app to the latest version and try again; if it still fails, contact wallet support with the request id.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ApiVersionUnknown,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "请求指定的接口版本不存在：请求未被处理。",
            "The API version the request asked for does not exist: it was not processed.",
        ),
        cause: t(
            "请求头 Bangka-Version 指定的版本不是 Bangka 提供的版本（版本以生效日期命名，例如 2026-12-01）。不带这个请求头时，请求按所用密钥绑定的版本处理。",
            "The Bangka-Version header names a version Bangka does not have (versions are named by the date they took effect, e.g. 2026-12-01). Without the header, a request gets the version its key is pinned to.",
        ),
        remediation: &[
            t(
                "把 Bangka-Version 改为 details.known 列出的版本之一，或去掉这个请求头以使用密钥绑定的版本。",
                "Set Bangka-Version to one of the versions in details.known, or leave the header out to use your key's version.",
            ),
            t("修正后重新发送请求；这次失败没有产生任何变更。", "Send the corrected request again; the failed one changed nothing."),
            t(
                "如果您是持卡人并看到此提示，请将钱包应用更新到最新版本后重试；仍然失败请联系钱包客服并提供请求编号。",
                "If you are a cardholder seeing this, update the wallet app to the latest version and try again; if it still fails, contact wallet support with the request id.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnsupportedMediaType,
        category: Category::Input,
        http_status: 415,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "请求体必须是 JSON，并设置请求头 Content-Type: application/json。",
            "The request body must be JSON, sent with the header Content-Type: application/json.",
        ),
        cause: t(
            "Bangka 的接口只接受 JSON 请求体。请求缺少 Content-Type 头，或其值不是 application/json（例如表单格式），因此没有被处理。",
            "Bangka's API only accepts JSON bodies. The request had no Content-Type header, or it named another format (a form encoding, for example), so it was not processed.",
        ),
        remediation: &[
            t("在请求头中设置 Content-Type: application/json。", "Set the header Content-Type: application/json on the request."),
            t("以 JSON 编码请求体，不要使用表单或 multipart 格式。", "Encode the body as JSON, not as a form or multipart body."),
            t("重新发送请求。", "Send the request again."),
        ],
    },
    Entry {
        code: ErrorCode::PayloadTooLarge,
        category: Category::Input,
        http_status: 413,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("请求体过大，超出了允许的上限。", "The request body is larger than the allowed limit."),
        cause: t(
            "为保护服务，Bangka 对请求体大小设有上限。绑卡相关请求通常只有几百字节，超过上限多半是带上了多余的数据，或客户端重复拼接了内容。",
            "To protect the service, Bangka limits the size of request bodies. Card-binding requests are normally a few hundred bytes, so hitting the limit usually means extra data was attached or the client concatenated content by mistake.",
        ),
        remediation: &[
            t(
                "只发送接口文档中列出的字段，去掉多余数据（如图片、日志或重复内容）。",
                "Send only the fields listed in the API reference and drop anything else (images, logs, repeated content).",
            ),
            t("检查客户端是否把多个请求的内容拼进了同一个请求体。", "Check that the client does not put several requests into one body."),
            t("缩减后重新发送请求。", "Send the smaller request again."),
        ],
    },
    Entry {
        code: ErrorCode::NotFound,
        category: Category::Input,
        http_status: 404,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("找不到请求的资源。", "The requested resource was not found."),
        cause: t(
            "请求的地址有误，或该资源（如某次绑卡或激活记录）不存在，或不属于当前调用方，因此对其不可见。",
            "The path is wrong, or the resource (a binding or activation, for example) does not exist or belongs to another caller and is therefore not visible to this one.",
        ),
        remediation: &[
            t("核对请求路径及其中的编号是否正确、完整。", "Check that the path and any id in it are correct and complete."),
            t(
                "确认该资源是由同一账户、同一调用方创建的；其他调用方的资源不可见。",
                "Make sure the resource was created for the same account by the same caller; other callers' resources are not visible.",
            ),
            t(
                "如果资源是刚创建的，确认创建请求已成功返回，并使用返回的编号。",
                "If the resource was just created, make sure the create request succeeded and use the id it returned.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::MethodNotAllowed,
        category: Category::Input,
        http_status: 405,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("该地址不支持此请求方法。", "This path does not support the request method used."),
        cause: t(
            "每个接口只接受特定的 HTTP 方法（例如查询用 GET、提交用 POST），使用其他方法的请求不会被处理。",
            "Each endpoint accepts specific HTTP methods (GET to read, POST to submit, for example); a request with another method is not processed.",
        ),
        remediation: &[
            t(
                "查看响应中的 Allow 头（如有）或接口文档，确认该地址支持的方法。",
                "Check the Allow header of the response, if present, or the API reference for the methods this path supports.",
            ),
            t("改用正确的方法重新发送请求。", "Send the request again with the right method."),
        ],
    },
    Entry {
        code: ErrorCode::UriTooLong,
        category: Category::Input,
        http_status: 414,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("请求地址过长。", "The request address is too long."),
        cause: t(
            "请求路径和查询参数的总长度超过了服务接受的上限。Bangka 的接口地址都很短，地址过长通常是把本应放在请求体中的数据拼进了地址，或客户端重复追加了参数。",
            "The path and query together are longer than the service accepts. Bangka's addresses are all short, so a long one usually means data that belongs in the body was put into the address, or the client appended parameters over and over.",
        ),
        remediation: &[
            t(
                "按接口文档使用地址，把卡号、说明等数据放进 JSON 请求体。",
                "Use the addresses in the API reference and put data such as notes in the JSON body.",
            ),
            t("检查客户端是否重复追加了查询参数。", "Check that the client does not append query parameters again and again."),
            t("修正后重新发送请求。", "Send the corrected request again."),
        ],
    },
    Entry {
        code: ErrorCode::HeadersTooLarge,
        category: Category::Input,
        http_status: 431,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("请求头过多或过大。", "The request has too many or too large headers."),
        cause: t(
            "请求头的数量或总大小超过了服务接受的上限（为保护服务而设）。正常请求只需要少量请求头：鉴权、内容类型、语言和幂等键。",
            "The number or total size of the request's headers is over the limit the service sets to protect itself. A normal request needs only a few: authorization, content type, language and the idempotency key.",
        ),
        remediation: &[
            t(
                "只发送所需的请求头：Authorization、Content-Type、Accept-Language 和 Idempotency-Key。",
                "Send only the headers needed: Authorization, Content-Type, Accept-Language and Idempotency-Key.",
            ),
            t(
                "检查客户端或代理是否重复添加了请求头或过大的 Cookie。",
                "Check that the client or a proxy does not add headers over and over, or a very large cookie.",
            ),
            t("修正后重新发送请求。", "Send the corrected request again."),
        ],
    },
    Entry {
        code: ErrorCode::RequestTimeout,
        category: Category::Input,
        http_status: 408,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("请求内容没有在规定时间内发送完。", "The request was not sent completely in time."),
        cause: t(
            "请求体在限定时间内没有传完（为防止连接被长期占用而设）。常见原因是网络极慢或中断，或客户端声明的长度与实际发送的不一致。",
            "The request body did not arrive within the time limit the service sets so that connections cannot be held for ever. Usually the network is very slow or dropped, or the client declared a length it did not send.",
        ),
        remediation: &[
            t(
                "检查网络连接后重新发送整个请求（带同一个 Idempotency-Key 重发不会重复执行）。",
                "Check the network, then send the whole request again (with the same Idempotency-Key it will not run twice).",
            ),
            t(
                "确认客户端一次发送完整的请求体，且 Content-Length 与实际内容一致。",
                "Make sure the client sends the whole body at once and that Content-Length matches it.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardNumberFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "银行卡号位数或格式不正确，请核对后重新输入。",
            "The card number has the wrong number of digits or other characters in it; check it and enter it again.",
        ),
        cause: t(
            "银行卡号由 16 至 19 位数字组成，同一家银行的同类卡位数固定（提示中会给出应有的位数）。输入的卡号位数不对或夹杂了其他字符，常见于漏输、多输一位，或粘贴时带入了多余内容。",
            "Bank card numbers have 16 to 19 digits, and one bank's cards of one kind always have the same number (the answer says how many when it knows). The number entered has a different length or contains other characters, which usually means a digit was missed or doubled, or extra text came along when pasting.",
        ),
        remediation: &[
            t(
                "对照卡片正面（或发卡行 App 中显示的卡号）重新输入完整卡号。",
                "Enter the full number again, reading it from the front of the card (or from your bank's app).",
            ),
            t("只输入数字，不要包含字母或符号。", "Enter digits only, with no letters or symbols."),
            t(
                "如果卡号是粘贴的，检查是否带入了多余字符或少粘了几位。",
                "If you pasted the number, check that nothing extra came along and nothing was cut off.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardNumberLuhn,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("银行卡号有误，请核对后重新输入。", "This card number is not valid; please check it and enter it again."),
        cause: t(
            "银行卡号的最后一位是由前面各位计算出的校验位。校验没有通过，说明卡号中很可能有一位输错，或相邻两位顺序颠倒。",
            "The last digit of a card number is a check digit calculated from the others. The check failed, so most likely one digit was mistyped or two neighbouring digits were swapped.",
        ),
        remediation: &[
            t(
                "逐位对照卡片核对卡号，特别留意容易看错的数字（如 6 和 8、1 和 7）。",
                "Compare the number with the card digit by digit, watching for easily confused digits such as 6 and 8 or 1 and 7.",
            ),
            t(
                "如果是拍照识别的卡号，请改为手动输入，或重新识别后仔细核对。",
                "If the number was scanned from a photo, type it by hand or scan again and check it carefully.",
            ),
            t("重新输入完整卡号后提交。", "Enter the full number again and submit."),
        ],
    },
    Entry {
        code: ErrorCode::CardBinUnknown,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "无法识别这张卡的发卡银行，请核对卡号。",
            "We could not identify the bank that issued this card; please check the card number.",
        ),
        cause: t(
            "卡号的前几位标识发卡银行和卡种。输入的卡号开头与已知的任何银行卡号段都不匹配，通常是开头几位输错，也可能这不是银行卡（如商场购物卡、交通卡）。",
            "The first digits of a card number identify the issuing bank and card type. The number entered starts with digits that match no known bank card range: usually the first digits were mistyped, or the card is not a bank card (a store or transit card, for example).",
        ),
        remediation: &[
            t("核对卡号开头几位，确认与卡片上的一致。", "Check the first digits of the number against the card."),
            t(
                "确认这是一张银行发行的借记卡或信用卡，而不是购物卡、会员卡等非银行卡。",
                "Make sure it is a debit or credit card issued by a bank, not a shopping, membership or other non-bank card.",
            ),
            t(
                "如确认卡号无误仍无法识别，请换一张卡绑定，或联系客服并提供卡片后四位和发卡行名称（切勿提供完整卡号）。",
                "If the number is right and still not recognised, bind another card, or contact support with the card's last four digits and the bank's name (never the full number).",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ExpiryFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("有效期格式不正确，请按“月/年”（MM/YY）填写，例如 08/27。", "Enter the expiry date as MM/YY, for example 08/27."),
        cause: t(
            "信用卡的有效期由两位月份和两位年份组成。输入的内容不是这种格式，或月份不在 01 到 12 之间。",
            "A card's expiry date is a two-digit month and a two-digit year. The value entered is not in that form, or the month is not between 01 and 12.",
        ),
        remediation: &[
            t("在卡片上找到有效期（通常标为“有效期”或 VALID THRU）。", "Find the expiry date on the card (usually labelled VALID THRU)."),
            t(
                "先填月份、再填年份，各两位，例如 2027 年 8 月填写 08/27。",
                "Enter the month first and then the year, two digits each: August 2027 is 08/27.",
            ),
            t("重新提交。", "Submit again."),
        ],
    },
    Entry {
        code: ErrorCode::CvvFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "安全码（CVV）格式不正确，应为卡片背面签名栏旁的 3 位数字。",
            "The security code (CVV) should be the 3 digits next to the signature strip on the back of the card.",
        ),
        cause: t(
            "CVV 是印在信用卡背面签名栏附近的 3 位数字，用于证明您持有这张卡。输入的内容不是 3 位数字。",
            "The CVV is the 3-digit number printed near the signature strip on the back of a credit card; it shows that you hold the card. The value entered is not 3 digits.",
        ),
        remediation: &[
            t("翻到卡片背面，找到签名栏旁边的 3 位数字。", "Turn the card over and find the 3 digits next to the signature strip."),
            t("只输入这 3 位数字，不要包含签名栏上的其他数字。", "Enter just those 3 digits, not any other numbers printed on the strip."),
            t(
                "安全码只用于本次验证，请勿告诉任何人，包括自称客服的人员。",
                "The security code is only for this check; never tell it to anyone, including people who say they are support staff.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CreditCardDetailsRequired,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这是一张信用卡，绑定时还需要填写有效期和安全码（CVV）。",
            "This is a credit card, so its expiry date and security code (CVV) are needed too.",
        ),
        cause: t(
            "银行验证信用卡时，除卡号、姓名、身份证号和手机号外，还要求提供有效期和卡背面的 3 位安全码。本次提交缺少其中一项或两项。",
            "To verify a credit card, the bank needs its expiry date and the 3-digit security code on the back in addition to the number, name, ID number and phone. One or both were missing.",
        ),
        remediation: &[
            t("在卡片上找到有效期，按 MM/YY 填写。", "Find the expiry date on the card and enter it as MM/YY."),
            t(
                "在卡片背面签名栏旁找到 3 位安全码并填写。",
                "Find the 3-digit security code next to the signature strip on the back and enter it.",
            ),
            t("填写完整后重新提交绑卡。", "Submit the binding again."),
        ],
    },
    Entry {
        code: ErrorCode::HolderNameFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "持卡人姓名格式不正确，请填写与身份证一致的姓名。",
            "The cardholder name is not valid; please enter your name as it appears on your ID card.",
        ),
        cause: t(
            "姓名为空、过长，或包含数字、符号等姓名中不会出现的字符。",
            "The name is empty, too long, or contains digits or symbols that do not occur in names.",
        ),
        remediation: &[
            t("按身份证上的写法填写完整姓名。", "Enter your full name exactly as written on your ID card."),
            t(
                "去掉数字、称谓、表情等姓名以外的内容，以及前后多余的空格。",
                "Remove digits, titles, emoji and anything else that is not part of the name, and any leading or trailing spaces.",
            ),
            t("重新提交。", "Submit again."),
        ],
    },
    Entry {
        code: ErrorCode::IdNumberFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "身份证号格式不正确，应为 18 位：前 17 位为数字，最后一位为数字或 X。",
            "The ID number should be 18 characters: 17 digits followed by a digit or X.",
        ),
        cause: t(
            "居民身份证号码共 18 位，其中第 7 至 14 位是出生日期。输入的号码位数不对、含有其他字符，或其中的出生日期不是有效日期。",
            "A resident ID number has 18 characters, and characters 7 to 14 are the date of birth. The number entered has the wrong length, contains other characters, or its date of birth is not a real date.",
        ),
        remediation: &[
            t("对照身份证重新输入完整的 18 位号码。", "Enter all 18 characters again, reading them from your ID card."),
            t(
                "如果最后一位是 X，请输入字母 X，不要用乘号或其他字符代替。",
                "If the last character is X, type the letter X, not a multiplication sign or another character.",
            ),
            t("检查第 7 至 14 位的出生日期是否与证件一致。", "Check that characters 7 to 14 match the date of birth on the card."),
        ],
    },
    Entry {
        code: ErrorCode::IdNumberCheckDigit,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("身份证号有误，请核对后重新输入。", "This ID number is not valid; please check it and enter it again."),
        cause: t(
            "身份证号的最后一位是按国家标准 GB 11643-1999 由前 17 位计算出的校验码。校验不一致，说明号码中很可能有一位输错，或相邻两位顺序颠倒。",
            "The last character of a resident ID number is a check character calculated from the first 17 digits (national standard GB 11643-1999). It does not match, so most likely one digit was mistyped or two neighbouring digits were swapped.",
        ),
        remediation: &[
            t("逐位对照身份证核对号码。", "Compare the number with your ID card character by character."),
            t(
                "确认最后一位与证件一致：是 X 就输入字母 X，是数字就输入数字。",
                "Make sure the last character matches the card: the letter X if it is X, otherwise the digit.",
            ),
            t("重新输入完整号码后提交。", "Enter the full number again and submit."),
        ],
    },
    Entry {
        code: ErrorCode::EmailFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("邮箱地址格式不正确。", "The email address is not valid."),
        cause: t(
            "通知邮件需要一个能收信的地址，形如 name@example.com。输入的地址缺少 @ 或域名，含有空格，或超过 254 个字符。",
            "Notices by email need an address that can receive mail, like name@example.com. The address entered lacks an @ or a domain, contains spaces, or is longer than 254 characters.",
        ),
        remediation: &[
            t("检查邮箱地址的拼写后重新输入。", "Check the spelling of the address and enter it again."),
            t("不需要邮件通知时，可以不填邮箱。", "If you do not want notices by email, leave the email out."),
        ],
    },
    Entry {
        code: ErrorCode::LanguageNotSupported,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("不支持该通知语言，请选择 zh-CN 或 en。", "That notification language is not supported: choose zh-CN or en."),
        cause: t(
            "短信、推送和邮件通知目前提供简体中文（zh-CN）和英文（en）两种语言。",
            "SMS, push and email notices are written in Simplified Chinese (zh-CN) and English (en).",
        ),
        remediation: &[t(
            "把 language 设为 \"zh-CN\" 或 \"en\"；不填时默认使用 zh-CN。",
            "Set language to \"zh-CN\" or \"en\"; without it, zh-CN is used.",
        )],
    },
    Entry {
        code: ErrorCode::PhoneFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "手机号格式不正确，请输入以 1 开头的 11 位中国大陆手机号。",
            "Enter an 11-digit mainland China mobile number starting with 1.",
        ),
        cause: t(
            "绑卡验证使用中国大陆手机号，共 11 位、以 1 开头。输入的号码位数不对、不以 1 开头，或含有数字以外的字符。",
            "Card binding uses a mainland China mobile number: 11 digits starting with 1. The number entered has the wrong length, does not start with 1, or contains characters other than digits.",
        ),
        remediation: &[
            t(
                "只输入 11 位手机号，不要加 +86、区号、空格或横线。",
                "Enter the 11 digits only, without +86, an area code, spaces or dashes.",
            ),
            t(
                "请使用这张卡在银行预留的手机号（开卡时登记的号码），以便接收验证短信。",
                "Use the phone number reserved for this card at the bank (the one registered when the card was opened), so you can receive the verification SMS.",
            ),
            t("重新提交。", "Submit again."),
        ],
    },
    Entry {
        code: ErrorCode::OtpFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("验证码格式不正确，应为 6 位数字。", "The verification code should be 6 digits."),
        cause: t(
            "短信验证码为 6 位数字。输入的位数不对，或含有数字以外的字符。",
            "SMS verification codes are 6 digits. The value entered has a different length or contains other characters.",
        ),
        remediation: &[
            t("打开最新收到的验证短信，输入其中的 6 位数字。", "Open the latest verification SMS and enter the 6 digits in it."),
            t("如果是复制粘贴的，检查是否带入了空格或其他文字。", "If you pasted the code, check that no spaces or other text came along."),
            t("验证码只在本页面输入，请勿告诉任何人。", "Enter the code only on this page and never tell it to anyone."),
        ],
    },
    Entry {
        code: ErrorCode::IdempotencyKeyInvalid,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "Idempotency-Key 请求头无效，应为 1 到 255 个可见 ASCII 字符。",
            "The Idempotency-Key header must be 1 to 255 visible ASCII characters.",
        ),
        cause: t(
            "Idempotency-Key 用于安全地重试同一请求。本次的值为空、超过 255 个字符，或含有空格、换行、中文等非可见 ASCII 字符。",
            "The Idempotency-Key lets a request be retried safely. The value sent is empty, longer than 255 characters, or contains spaces, line breaks, non-ASCII text or other characters that are not visible ASCII.",
        ),
        remediation: &[
            t("为每个新操作生成一个唯一的键，例如 UUID。", "Generate a unique key for each new operation, such as a UUID."),
            t(
                "确认键只含可见 ASCII 字符，长度在 1 到 255 之间。",
                "Make sure the key has only visible ASCII characters and is 1 to 255 long.",
            ),
            t("重试同一操作时继续使用同一个键。", "Reuse the same key when retrying the same operation."),
        ],
    },
    Entry {
        code: ErrorCode::IdempotencyKeyReused,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "此 Idempotency-Key 已用于另一个内容不同的请求。",
            "This Idempotency-Key was already used for a request with a different body.",
        ),
        cause: t(
            "同一个 Idempotency-Key 只能对应一个请求内容，这样重试时才能返回原来的结果。本次请求沿用了已用过的键，但请求体与首次不同；为避免把新操作误当成重试，请求被拒绝。",
            "One Idempotency-Key stands for one request body, so that a retry returns the original result. This request reused a key with a different body; to avoid mistaking a new operation for a retry, it was rejected.",
        ),
        remediation: &[
            t("如果这是一次新的操作，请生成新的 Idempotency-Key。", "If this is a new operation, generate a new Idempotency-Key."),
            t("如果这是重试，请发送与首次完全相同的请求体。", "If this is a retry, send exactly the same body as the first time."),
            t("检查客户端是否在不同操作之间复用了同一个键。", "Check that the client does not share one key between different operations."),
        ],
    },
    Entry {
        code: ErrorCode::IdempotencyInProgress,
        category: Category::Input,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "使用相同 Idempotency-Key 的请求仍在处理中，请在提示的时间后重试。",
            "A request with the same Idempotency-Key is still being processed; please retry after the time shown.",
        ),
        cause: t(
            "首次请求尚未完成（例如仍在等待银行答复）时，又收到了使用相同键的请求。为避免重复操作，两个请求不会同时处理。",
            "A request with the same key arrived while the first one was still running (waiting for the bank, for example). To avoid doing the operation twice, the two are not processed at the same time.",
        ),
        remediation: &[
            t(
                "在提示的时间后，用相同的键和相同的请求体重试，即可得到首次请求的结果。",
                "After the time shown, retry with the same key and the same body to get the first request's result.",
            ),
            t(
                "不要换一个新键重新提交，否则可能重复执行同一操作。",
                "Do not resubmit with a new key, or the operation may be carried out twice.",
            ),
            t(
                "调整客户端，避免在尚未收到响应时立即并发重试。",
                "Adjust the client so that it does not fire concurrent retries before the first response arrives.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::AmountFormat,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "金额格式不正确：金额须以“分”为单位，用 JSON 整数表示。",
            "The amount must be a whole number of fen (minor units), sent as a JSON integer.",
        ),
        cause: t(
            "Bangka 以“分”为单位记录金额，金额字段必须是 JSON 整数：12.34 元应发送为 1234。带小数的数值（如 12.345）或以字符串形式发送的金额都会被拒绝。本次请求没有产生任何扣款或变更。",
            "Bangka keeps amounts in fen, the smallest unit of the currency, so the amount field must be a JSON integer: 12.34 CNY is sent as 1234. A number with a decimal part (such as 12.345) or an amount sent as a string is refused. Nothing was charged or changed.",
        ),
        remediation: &[
            t(
                "把金额换算成“分”：元金额乘以 100，例如 12.34 元发送 1234；请用整数运算换算，避免浮点误差。",
                "Convert the amount to fen by multiplying the CNY amount by 100 (12.34 CNY is 1234), using integer arithmetic to avoid floating-point errors.",
            ),
            t(
                "以 JSON 整数发送金额，不要加引号、小数点或货币符号。",
                "Send it as a JSON integer, without quotes, a decimal point or a currency symbol.",
            ),
            t("修正后重新发送请求；这次失败没有产生任何扣款。", "Send the corrected request again; the failed one charged nothing."),
        ],
    },
    Entry {
        code: ErrorCode::AmountOutOfRange,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "金额超出允许范围：须大于 0，且单笔不超过 100,000.00 元。",
            "The amount is out of range: it must be above zero and at most 100,000.00 CNY per payment.",
        ),
        cause: t(
            "每笔付款的金额须为正数，且不超过单笔上限 100,000.00 元（10000000 分）。本次金额为 0、负数或高于上限；响应详情中给出了允许的范围。本次请求没有产生任何扣款或变更。",
            "Each payment must be for a positive amount of at most 100,000.00 CNY (10000000 fen). This amount is zero, negative or above that maximum; the response details give the allowed bounds. Nothing was charged or changed.",
        ),
        remediation: &[
            t(
                "核对金额是否以“分”为单位且换算正确，常见错误是多乘或漏乘了 100。",
                "Check that the amount is in fen and converted correctly; a common mistake is an extra or a missing factor of 100.",
            ),
            t(
                "确认金额大于 0，且不超过响应详情中给出的上限。",
                "Make sure the amount is above zero and not above the maximum given in the response details.",
            ),
            t("修正后重新发送请求；这次失败没有产生任何扣款。", "Send the corrected request again; the failed one charged nothing."),
        ],
    },
    Entry {
        code: ErrorCode::CurrencyNotSupported,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("不支持该币种，目前仅支持人民币（CNY）。", "This currency is not supported; Bangka settles in Chinese yuan (CNY) only."),
        cause: t(
            "币种须为 Bangka 结算的币种的三位字母代码。本次提交的币种代码格式不正确，或不是 Bangka 结算的币种；目前只支持 CNY。本次请求没有产生任何扣款或变更。",
            "The currency must be the three-letter code of a currency Bangka settles in. The code sent is malformed, or names a currency Bangka does not settle in; today that is CNY only. Nothing was charged or changed.",
        ),
        remediation: &[
            t("将币种字段设为 CNY，金额按人民币“分”计算。", "Set the currency field to CNY and express the amount in fen."),
            t(
                "以其他币种标价的订单，请先换算成人民币金额后再发起付款。",
                "For an order priced in another currency, convert it to a CNY amount before requesting the payment.",
            ),
            t("修正后重新发送请求。", "Send the corrected request again."),
        ],
    },
    Entry {
        code: ErrorCode::MerchantIdFormat,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "商户编号（merchant_id）格式不正确，应为 1 到 64 个字母、数字或 _ - . : 符号。",
            "The merchant id (merchant_id) must be 1 to 64 letters, digits or the symbols _ - . :",
        ),
        cause: t(
            "merchant_id 长度须为 1 到 64 个字符，只能包含字母、数字以及 _、-、.、: 四种符号。本次提交的值为空、超过 64 个字符，或含有空格等不允许的字符。",
            "merchant_id must be 1 to 64 characters long and may contain only letters, digits and the symbols _ - . and :. The value sent is empty, longer than 64 characters, or contains spaces or other characters that are not allowed.",
        ),
        remediation: &[
            t(
                "使用收单方或钱包平台分配的商户编号，原样发送。",
                "Use the merchant id assigned by the acquirer or the wallet platform, exactly as given.",
            ),
            t(
                "去掉前后空格，并确认只含字母、数字和 _ - . : 符号，长度不超过 64。",
                "Trim leading and trailing spaces, and make sure it has only letters, digits and _ - . : and is at most 64 characters.",
            ),
            t("修正后重新发送请求。", "Send the corrected request again."),
        ],
    },
    Entry {
        code: ErrorCode::TokenNumberFormat,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("支付标记号码格式不正确。", "The token number is not valid."),
        cause: t(
            "支付标记（token）是付款时代替真实卡号使用的号码：共 16 位数字，以 Bangka 的标记号段 990001 开头，并能通过卡号校验位（Luhn）检查。本次提交的号码不符合这些条件。此处绝不接受真实银行卡号。",
            "A token is the number used in place of the real card number when paying: 16 digits, starting with Bangka's token range 990001 and passing the card-number check digit (Luhn). The number sent does not meet these rules. A real card number is never accepted here.",
        ),
        remediation: &[
            t(
                "使用钱包获取一次性支付码时响应中返回的支付标记号码，原样发送，不要截断或加空格。",
                "Use the token number returned in the wallet's cryptogram response, exactly as given, without cutting it or adding spaces.",
            ),
            t(
                "不要在此处发送真实银行卡号；商户侧不应保存或传输真实卡号。",
                "Never send a real card number here; the merchant side should not store or pass on real card numbers.",
            ),
            t("修正后重新发送请求。", "Send the corrected request again."),
        ],
    },
    Entry {
        code: ErrorCode::CryptogramFormat,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("一次性支付码（cryptogram）格式不正确，应为 16 位十六进制字符。", "The cryptogram should be 16 hexadecimal digits."),
        cause: t(
            "一次性支付码由获取支付码的接口返回，是 16 位十六进制字符。本次提交的值长度不对或含有其他字符，常见于被截断，或带入了空格、引号。",
            "A cryptogram is returned by the cryptogram endpoint and is 16 hexadecimal digits. The value sent has another length or contains other characters; often it was cut short or picked up spaces or quotes.",
        ),
        remediation: &[
            t(
                "原样使用获取支付码接口返回的值，不要修改、截断或拼接。",
                "Use the value from the cryptogram endpoint exactly as returned, without editing, cutting or joining it.",
            ),
            t("检查是否带入了空格、换行或引号。", "Check that no spaces, line breaks or quotes came along."),
            t(
                "修正后重新发送请求；如果无法确定原值，请让钱包为本次付款重新获取支付码。",
                "Send the corrected request again; if the original value is in doubt, have the wallet request a new cryptogram for this payment.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::DeviceInfoFormat,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "设备信息格式不正确，请更新钱包应用后重新登录。",
            "The device details are not valid. Please update the wallet app and sign in again.",
        ),
        cause: t(
            "新建登录会话时需要设备标识（1–128 位字母、数字或 . _ : -），可选的设备名称（1–64 个字符，不含控制字符）和客户端 IP 地址；其中一项不符合格式。错误详情中的 field 指出是哪一项。",
            "Opening a session takes a device id (1 to 128 letters, digits or . _ : -), an optional device name (1 to 64 characters, no control characters) and the client's IP address; one of them is not in that form. The `field` in the details names which.",
        ),
        remediation: &[
            t("更新钱包应用到最新版本，然后重新登录。", "Update the wallet app to its latest version, then sign in again."),
            t(
                "钱包开发者：按 details.field 修正 device_id、device_name 或 client_ip 后重试。",
                "Wallet developers: correct device_id, device_name or client_ip as details.field says, then retry.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::OpsReasonRequired,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("此运营操作须写明操作原因（5 到 500 个字符）。", "This operator action needs a written reason of 5 to 500 characters."),
        cause: t(
            "去标记化（查询真实卡号）、代表银行或风控暂停支付标记等运营操作会影响持卡人的卡片和隐私，必须写明原因，原因会记入审计日志。本次请求没有填写原因，或原因少于 5 个或多于 500 个字符，操作未执行。",
            "Operator actions such as detokenization (looking up the real card number) or suspending a token on behalf of the bank or risk control affect the holder's card and privacy, so each needs a written reason, which is kept in the audit log. This request had no reason, or one shorter than 5 or longer than 500 characters, so nothing was done.",
        ),
        remediation: &[
            t(
                "在请求的原因字段中写明为什么需要此操作，例如关联的工单号和依据，长度 5 到 500 个字符。",
                "Fill in the request's reason field with why the action is needed, such as the related ticket and what it is based on, in 5 to 500 characters.",
            ),
            t(
                "原因中不要写入完整卡号、身份证号、密码或验证码，审计日志会保留这段文字。",
                "Do not put a full card number, ID number, password or code in the reason; the audit log keeps the text.",
            ),
            t("填写后重新提交操作。", "Submit the action again."),
        ],
    },
    // ------------------------------------------------------------------
    // policy: the wallet's rules or access control
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::SessionExpired,
        category: Category::Policy,
        http_status: 401,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("登录已过期，请重新登录钱包后再试。", "Your sign-in has expired. Please sign in to the wallet again and retry."),
        cause: t(
            "为保护您的账户，钱包的登录会话只在短时间内有效；会话过期、您已退出登录，或该设备已从账户中移除时，需要重新登录。",
            "To protect your account, a wallet sign-in lasts only a short time. It ends when it expires, when you sign out, or when the device is removed from your account.",
        ),
        remediation: &[
            t("重新登录钱包，然后重试刚才的操作。", "Sign in to the wallet again, then retry what you were doing."),
            t(
                "如果您没有退出登录却反复看到此提示，请检查是否有人在“设备管理”中移除了您的设备；如非本人操作，请立即冻结账户并联系客服。",
                "If you did not sign out and keep seeing this, check whether your device was removed under device management. If that was not you, freeze the account at once and contact support.",
            ),
            t(
                "钱包开发者：用钱包的 API 密钥为该账户新建会话（POST /v1/accounts/{id}/sessions）。",
                "Wallet developers: open a new session for the account with the wallet's API key (POST /v1/accounts/{id}/sessions).",
            ),
        ],
    },
    Entry {
        code: ErrorCode::Unauthenticated,
        category: Category::Policy,
        http_status: 401,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "身份验证失败：缺少 API 密钥或访问令牌，或其无效。",
            "Authentication failed: the API key or bearer token is missing or invalid.",
        ),
        cause: t(
            "调用 Bangka 接口需要在 Authorization 头中携带有效的 API 密钥或 Bearer 令牌。本次请求没有携带，或携带的值有误、已过期或已被吊销。",
            "Calls to Bangka need a valid API key or bearer token in the Authorization header. This request had none, or the one it had is wrong, expired or revoked.",
        ),
        remediation: &[
            t(
                "确认请求带有 Authorization: Bearer 头，且值完整、没有多余的空格或换行。",
                "Make sure the request has an Authorization: Bearer header with the complete value and no stray spaces or line breaks.",
            ),
            t(
                "确认所用密钥属于当前环境（测试或生产），且未被吊销或轮换。",
                "Make sure the key belongs to this environment (test or production) and has not been revoked or rotated.",
            ),
            t("如需新的密钥，请联系钱包平台管理员签发。", "If you need a new key, ask the wallet platform's administrator to issue one."),
            t(
                "如果您是持卡人并看到此提示，请重新登录钱包后再试。",
                "If you are a cardholder seeing this, sign in to the wallet again and retry.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::RateLimited,
        category: Category::Policy,
        http_status: 429,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "操作太频繁了，请稍等片刻，在提示的时间后再试。",
            "Too many requests in a short time. Please wait a moment and try again after the time shown.",
        ),
        cause: t(
            "为保护账户和服务，同一个密钥、同一个钱包账户或同一个网络地址在短时间内能发起的请求数有上限。本次请求超过了上限，没有被处理，也没有产生任何变更。",
            "To protect accounts and the service, one API key, one wallet account or one network address may send only so many requests in a short time. This request went over that limit: it was not processed and changed nothing.",
        ),
        remediation: &[
            t(
                "在提示的时间后重试（响应头 Retry-After 给出秒数）。",
                "Retry after the time shown (the Retry-After header gives the seconds).",
            ),
            t(
                "不要连续快速重复点击或刷新；一次操作等待结果后再进行下一次。",
                "Do not tap or refresh over and over: wait for each operation's result before the next.",
            ),
            t(
                "接入方：按 RateLimit-Remaining 和 RateLimit-Reset 响应头控制请求速度；如果正常业务量超过上限，请联系运营方调整限额。",
                "Integrators: pace requests by the RateLimit-Remaining and RateLimit-Reset headers; if your normal traffic exceeds the limit, ask the operator to raise it.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::Forbidden,
        category: Category::Policy,
        http_status: 403,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("当前 API 密钥无权调用此接口。", "This API key is not allowed to use this endpoint."),
        cause: t(
            "每个 API 密钥都有一个角色，角色决定它可以调用哪些接口。当前密钥的角色不包含此接口的权限。",
            "Every API key has a role, and the role decides which endpoints it may call. This key's role does not include this endpoint.",
        ),
        remediation: &[
            t(
                "确认调用此接口时使用的是具备相应权限的密钥，而不是其他用途的密钥。",
                "Make sure this call uses a key meant for this endpoint, not a key issued for another purpose.",
            ),
            t(
                "如确需此权限，请联系管理员为密钥分配相应角色，或签发新的密钥。",
                "If the access is really needed, ask the administrator to grant the role or issue a suitable key.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::MerchantKeyMismatch,
        category: Category::Policy,
        http_status: 403,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "当前商户 API 密钥不属于请求中的商户，或尚未绑定任何商户。",
            "This merchant API key does not belong to the merchant the request names, or is not bound to any merchant.",
        ),
        cause: t(
            "商户密钥可以绑定到一个商户编号：绑定后，它发起的支付必须使用该商户编号；自动扣款只能由绑定到协议商户的密钥发起，因为扣款时持卡人不在场，密钥是商户身份的唯一证明。",
            "A merchant key can be bound to one merchant id: its payments must then name that merchant, and only a key bound to an agreement's merchant may charge it, because the holder is not present for an autopay charge and the key is the merchant's only proof of identity.",
        ),
        remediation: &[
            t(
                "确认请求中的商户编号与该密钥绑定的商户一致（见返回信息中的 key_merchant_id）。",
                "Check that the merchant id in the request is the one this key is bound to (key_merchant_id in the details).",
            ),
            t(
                "发起自动扣款需要与商户绑定的密钥：请钱包管理员为该商户签发（见 README“Operating it”一节中的 Roles）。",
                "Autopay charges need a key bound to the merchant: ask the wallet administrator to issue one for it (README, section Operating it, Roles).",
            ),
        ],
    },
    Entry {
        code: ErrorCode::IssuerNotSupported,
        category: Category::Policy,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "本钱包暂不支持绑定该银行发行的卡，请换一张其他银行的卡。",
            "This wallet does not accept cards from this bank yet; please use a card from another bank.",
        ),
        cause: t(
            "钱包只能绑定已接入银行发行的卡。这张卡的发卡行目前不在支持范围内，与卡片本身是否正常无关。",
            "The wallet can only bind cards from banks it is connected to. This card's bank is not among them at present; this says nothing about the card itself.",
        ),
        remediation: &[
            t("在钱包的支持银行列表中查看可以绑定的银行。", "See which banks are supported in the wallet's list of banks."),
            t("换一张受支持银行的借记卡或信用卡进行绑定。", "Bind a debit or credit card from a supported bank instead."),
        ],
    },
    Entry {
        code: ErrorCode::CardTypeNotAccepted,
        category: Category::Policy,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "本钱包暂不支持绑定该银行的这类卡片，请换一张卡。",
            "This wallet does not accept this type of card from this bank; please use another card.",
        ),
        cause: t(
            "钱包对每家银行只接受部分卡种，例如不接受该行的预付卡、礼品卡。这张卡的类型不在可绑定范围内。",
            "For each bank the wallet accepts only some card types; it does not take a bank's prepaid or gift cards, for example. This card's type is not one of them.",
        ),
        remediation: &[
            t(
                "查看钱包的支持银行说明，了解该银行可以绑定的卡种。",
                "Check the wallet's list of supported banks to see which card types it accepts from this bank.",
            ),
            t(
                "改用该银行可绑定的其他卡（如借记卡），或其他受支持银行的卡。",
                "Bind another card from this bank that is accepted (a debit card, for example), or a card from another supported bank.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardRegionNotAccepted,
        category: Category::Policy,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "本钱包只支持绑定指定地区银行发行的卡，这张卡的发卡地区不在其中。",
            "This wallet only binds cards issued by banks in certain regions, and this card's region is not one of them.",
        ),
        cause: t(
            "受监管和结算规则限制，钱包只接受部分地区发行的银行卡（例如只接受中国内地银行的卡，不接受港澳地区银行发行的银联卡）。这与卡片本身是否正常无关。",
            "Because of regulation and settlement rules, the wallet accepts cards issued in some regions only (for example mainland China banks' cards, not UnionPay cards from Hong Kong or Macau banks). It says nothing about whether the card itself is in order.",
        ),
        remediation: &[
            t(
                "改用钱包支持地区的银行发行的卡（详情中列出了支持的地区）。",
                "Bind a card issued by a bank in a region the wallet accepts (the details list them).",
            ),
            t("在钱包的支持银行列表中查看各银行及其所在地区。", "See the banks and their regions in the wallet's list of supported banks."),
            t(
                "如果确需使用这张卡，可以向钱包客服了解今后是否会支持该地区。",
                "If you need this very card, ask the wallet's customer service whether cards from that region will be accepted.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingLimitReached,
        category: Category::Policy,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "您的账户绑定的银行卡数量已达上限，请先解绑一张不再使用的卡。",
            "Your account already has the maximum number of bound cards; please unbind one you no longer use first.",
        ),
        cause: t(
            "为保障账户安全，每个钱包账户可绑定的银行卡数量有上限（默认 5 张）。您的账户已绑定的卡已达到这个数量。",
            "For account safety, each wallet account can hold a limited number of bound cards (5 by default). Your account has reached that number.",
        ),
        remediation: &[
            t("在钱包的银行卡管理中查看已绑定的卡。", "Open card management in the wallet and review your bound cards."),
            t(
                "解绑一张不再使用的卡；解绑前请确认它没有关联的自动扣款、分期还款等服务。",
                "Unbind a card you no longer use; before that, make sure no automatic payments or instalments depend on it.",
            ),
            t("然后重新绑定新卡。", "Then bind the new card again."),
        ],
    },
    Entry {
        code: ErrorCode::CardAlreadyBound,
        category: Category::Policy,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡已绑定到您的账户，无需重复绑定。",
            "This card is already bound to your account; there is no need to bind it again.",
        ),
        cause: t(
            "同一张卡在一个账户中只能绑定一次，这张卡已在您的已绑卡列表中。",
            "A card can be bound to an account only once, and this card is already in your list of bound cards.",
        ),
        remediation: &[
            t("在银行卡管理中找到这张卡，直接使用已有的绑定。", "Find the card in card management and use the existing binding."),
            t(
                "如果列表中没有显示，请刷新页面或重新登录后再查看。",
                "If it is not shown, refresh the page or sign in again and look once more.",
            ),
        ],
    },
    // ------------------------------------------------------------------
    // account: the wallet account's state
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::AccountPhoneTaken,
        category: Category::Account,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("该手机号已注册过钱包账户。", "A wallet account already exists for this phone number."),
        cause: t(
            "每个手机号只能注册一个钱包账户。这个号码已有对应的账户：可能是您之前注册过，也可能号码曾属于他人（运营商回收后重新分配）。",
            "Each phone number can have only one wallet account, and this number already has one: you may have registered before, or the number may have belonged to someone else before the carrier reassigned it.",
        ),
        remediation: &[
            t("如果是您本人的账户，请直接用该手机号登录。", "If it is your account, sign in with this phone number."),
            t(
                "如果忘记了登录方式，请通过登录页的找回功能找回账户。",
                "If you cannot remember how to sign in, use the account recovery option on the sign-in page.",
            ),
            t(
                "如果您从未注册过，请联系客服核实并处理该号码下的旧账户。",
                "If you never registered, contact support to check and resolve the old account on this number.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::AccountIncomplete,
        category: Category::Account,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("注册还没有完成：请先验证账户手机号。", "Your sign-up is not finished yet: verify the account's phone number first."),
        cause: t(
            "开通钱包账户时会向注册手机号发送短信验证码，证明号码属于您本人。验证完成前，不能进行实名认证、绑卡、设置支付密码或付款。",
            "When a wallet account is opened, an SMS code goes to its phone number to prove the number is yours. Until it is verified, the account cannot do real-name verification, bind cards, set a payment password or pay.",
        ),
        remediation: &[
            t(
                "输入注册手机号收到的 6 位短信验证码，完成验证。",
                "Enter the 6-digit code sent by SMS to the phone number you signed up with.",
            ),
            t("没有收到验证码？1 分钟后可以重新获取。", "No code? You can ask for a new one after a minute."),
            t(
                "如果注册时手机号填错了，请先更换为正确的号码。",
                "If the phone number was typed wrong at sign-up, change it to the right one first.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::AccountFrozen,
        category: Category::Account,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "您的钱包账户已冻结，暂时不能付款、绑卡或解绑。",
            "Your wallet account is frozen, so it cannot pay, bind or unbind cards for now.",
        ),
        cause: t(
            "账户被持卡人冻结（例如发现不认识的交易或手机丢失）。冻结期间所有卡片都停止付款，也不能绑定或解绑卡片，以免资金继续受损。",
            "The account was frozen by its holder (for example after transactions they did not recognise, or a lost phone). While it is frozen every card stops paying and no card can be bound or unbound, so no more money can be lost.",
        ),
        remediation: &[
            t(
                "如果冻结是因为不认识的交易，请先核对各卡的交易记录，修改支付密码，并联系客服说明这些交易的时间和金额。",
                "If the freeze was for unknown transactions, first check each card's payment records, change the payment password, and tell support the times and amounts of those transactions.",
            ),
            t(
                "确认安全后，在钱包中解冻账户：需要发送到注册手机的短信验证码，以及支付密码（如已设置）。",
                "Once it is safe, unfreeze the account in the wallet: it takes the SMS code sent to the account's phone and the payment password, if one is set.",
            ),
            t("如果冻结不是您本人操作，请立即联系客服。", "If you did not freeze it yourself, contact support at once."),
            t(
                "如果是因手机丢失而冻结、原号码也无法找回：在钱包中更换手机号，新号码接收验证码并提交身份证照片审核，审核通过后账户自动解冻。",
                "If it was frozen because the phone was lost and the old number cannot be recovered, change the account phone in the wallet: the new number receives a code, you send ID photos for a review, and the approval unfreezes the account.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnfreezeReviewRequired,
        category: Category::Account,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "账户因手机丢失或账户被盗而冻结，不能再用发往原手机的验证码解冻或找回，需要人工核实身份。",
            "The account was frozen because its phone was lost or the account was taken over, so a code sent to that phone can no longer unfreeze or recover it: a person must check your identity.",
        ),
        cause: t(
            "冻结时您告诉我们手机丢失或账户可能被他人控制。捡到或偷走手机的人能收到发往原号码的验证码，所以解冻、重置支付密码都不再接受这个号码的验证码；冻结时所有已登录的设备也都已退出。",
            "When the account was frozen you told us the phone was lost or someone else may control the account. Whoever has that phone receives the codes sent to its number, so neither an unfreeze nor a payment-password reset accepts that number's codes any more; every signed-in device was signed out when it was frozen.",
        ),
        remediation: &[
            t(
                "如果您仍使用原号码（已到运营商补办），在钱包中提交“解冻”审核，上传身份证正反面和手持身份证照片；审核通过后账户解冻。",
                "If you still use the number (your carrier gave it back), send an 'unfreeze' review in the wallet with both sides of your ID card and a photo of you holding it; once approved, the account is unfrozen.",
            ),
            t(
                "如果要换用新号码：在钱包中更换手机号，新号码接收验证码并提交身份证照片审核，审核通过后账户自动解冻。",
                "To move to a new number instead, change the account phone in the wallet: the new number receives a code, you send ID photos for a review, and the approval unfreezes the account.",
            ),
            t("在审核列表中查看审核进度。", "Follow the review in your list of reviews."),
            t("如有疑问，请提交工单联系客服。", "If anything is unclear, open a ticket to contact support."),
        ],
    },
    Entry {
        code: ErrorCode::AccountNotFrozen,
        category: Category::Account,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("您的钱包账户没有被冻结，无需解冻。", "Your wallet account is not frozen, so there is nothing to unfreeze."),
        cause: t(
            "只有已冻结的账户才能解冻。账户当前的状态可以在钱包的账户页面查看。",
            "Only a frozen account can be unfrozen. The account's current status is in the response's details.",
        ),
        remediation: &[
            t("刷新账户页面，查看账户的当前状态。", "Refresh the account page to see its current status."),
            t(
                "如果某张卡无法使用，请查看该卡自身的状态（卡片也可以单独冻结）。",
                "If one card cannot be used, look at that card's own status (a card can be frozen on its own too).",
            ),
        ],
    },
    Entry {
        code: ErrorCode::KycRequired,
        category: Category::Account,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("绑定银行卡前，请先完成实名认证。", "Please complete real-name verification before binding a card."),
        cause: t(
            "按照支付账户实名制的要求，钱包账户须先完成实名认证（核验本人姓名和身份证号）才能绑定银行卡。您的账户尚未完成实名认证。",
            "Under the real-name rules for payment accounts, a wallet account must pass real-name verification (your name and ID number) before it can bind cards. Your account has not done so yet.",
        ),
        remediation: &[
            t(
                "在钱包中进入实名认证页面，填写本人姓名和身份证号。",
                "Open real-name verification in the wallet and enter your own name and ID number.",
            ),
            t("认证通过后，重新绑定本人名下的银行卡。", "Once verified, bind a card in your own name again."),
        ],
    },
    Entry {
        code: ErrorCode::KycAlreadyVerified,
        category: Category::Account,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("您的账户已完成实名认证，无需重复认证。", "Your account has already passed real-name verification."),
        cause: t(
            "实名认证完成后即与账户绑定。如需修改已认证的姓名或身份证号（例如证件信息变更），须经人工审核，不能在线直接重新提交。",
            "Once real-name verification is done it stays with the account. Changing the verified name or ID number (after a change of documents, for example) needs a manual review and cannot be resubmitted online.",
        ),
        remediation: &[
            t(
                "如果只是想绑卡，请直接绑定本人名下的银行卡。",
                "If you only want to bind a card, go ahead and bind a card in your own name.",
            ),
            t(
                "如确需变更实名信息，请在钱包中提交实名信息修改审核，上传身份证正反面照片。",
                "If your verified details really must change, ask for a real-name change review in the wallet, with photos of both sides of your ID card.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::KycRejected,
        category: Category::Account,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t("实名认证未通过，暂时无法绑定银行卡。", "Real-name verification was not approved, so cards cannot be bound for now."),
        cause: t(
            "按身份证号上的出生日期，持证人未满 16 周岁，还不能使用绑卡服务；满 16 周岁的日期见提示。",
            "By the birth date in the ID number, the holder is under 16 and not yet eligible for card binding; the date they turn 16 is shown.",
        ),
        remediation: &[
            t(
                "如果身份证号输错了，核对后直接重新提交实名认证即可。",
                "If the ID number was typed wrong, check it and submit the real-name verification again.",
            ),
            t(
                "如果信息无误，请在提示的日期（满 16 周岁）之后重新提交实名认证。",
                "If the details are right, submit the real-name verification again on or after the date shown (your 16th birthday).",
            ),
            // Not a manual review: the age comes from the ID number itself,
            // and a person may not verify what the rule refuses (issue 24).
            t(
                "如果证件上的出生日期登记有误，请先到户籍所在地派出所更正并换领身份证，再用新的身份证号重新提交实名认证。",
                "If the birth date on your ID is registered wrongly, have the police station where your household is registered correct it and issue a new ID card, then submit the verification again with the new ID number.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::PaymentPasswordIncorrect,
        category: Category::Account,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("支付密码不正确。", "The payment password is incorrect."),
        cause: t(
            "输入的支付密码与账户设置的不一致。多次输错会触发风控，暂停相关操作。",
            "The payment password entered does not match the one set for the account. Repeated mistakes trigger a temporary risk lock.",
        ),
        remediation: &[
            t("核对后重新输入 6 位支付密码。", "Check and enter the 6-digit payment password again."),
            t(
                "如果忘记了支付密码，不要反复尝试：在钱包中选择“忘记支付密码”，核对实名信息并输入发到账户手机号的验证码后即可设置新密码。",
                "If you have forgotten it, do not keep guessing: choose \"forgot payment password\" in the wallet, confirm your real-name details and the code sent to your account's phone, then set a new one.",
            ),
            t("如果您没有进行此操作，请立即冻结卡片并联系客服。", "If this was not you, freeze your cards and contact support at once."),
        ],
    },
    Entry {
        code: ErrorCode::PaymentPasswordNotSet,
        category: Category::Account,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "您还没有设置支付密码，请先设置，或改用短信验证码确认付款。",
            "You have not set a payment password yet; set one first, or confirm the payment with an SMS code instead.",
        ),
        cause: t(
            "本次选择用支付密码确认付款，但您的账户尚未设置支付密码。",
            "This payment was to be confirmed with the payment password, but your account does not have one yet.",
        ),
        remediation: &[
            t("在钱包中设置 6 位支付密码。", "Set a 6-digit payment password in the wallet."),
            t("设置完成后，重新确认付款并输入支付密码。", "Then confirm the payment again with the payment password."),
            t(
                "也可以暂不设置，改为获取短信验证码来确认本次付款。",
                "Or, without setting one, request an SMS code and confirm this payment with it.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::PaymentVerificationRequired,
        category: Category::Account,
        http_status: 400,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "确认付款需要且只能使用一种验证方式：支付密码或短信验证码。",
            "Confirming a payment needs exactly one check: the payment password or an SMS code.",
        ),
        cause: t(
            "每笔付款都须由持卡人确认，请求中须带且只带一种验证：6 位支付密码，或事先通过 POST /v1/accounts/{id}/bindings/{bid}/cryptograms/otp 获取的短信验证码。本次请求两者都没有或两者都有，或者带了短信验证码，但之前没有获取过验证码，或获取的验证码已被使用。",
            "Every payment is confirmed by the holder, and the request must carry exactly one check: the 6-digit payment password, or an SMS code requested first with POST /v1/accounts/{id}/bindings/{bid}/cryptograms/otp. This request had neither, or both, or an SMS code when no code had been requested or the requested one was already used.",
        ),
        remediation: &[
            t(
                "让持卡人选择一种方式：输入支付密码，或接收短信验证码。",
                "Let the holder choose one way: enter the payment password, or receive an SMS code.",
            ),
            t(
                "选择短信验证时，先调用 POST /v1/accounts/{id}/bindings/{bid}/cryptograms/otp 发送验证码，再在请求中只带上持卡人输入的验证码。",
                "For SMS, first call POST /v1/accounts/{id}/bindings/{bid}/cryptograms/otp to send a code, then send only the code the holder enters.",
            ),
            t("选择支付密码时，只带上支付密码，不要同时带验证码。", "For the password, send only the password, not a code as well."),
            t("每个短信验证码只能使用一次，下次付款请重新获取。", "Each SMS code works once; request a new one for the next payment."),
        ],
    },
    Entry {
        code: ErrorCode::HolderNameNotKycName,
        category: Category::Account,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "填写的持卡人姓名与账户实名认证的姓名不一致。钱包只能绑定本人名下的银行卡。",
            "The cardholder name entered differs from your account's verified name. A wallet can only bind cards in the account holder's own name.",
        ),
        cause: t(
            "为防止他人银行卡被冒用，钱包只允许绑定与账户实名信息一致的本人卡片。本次填写的姓名与账户实名认证的姓名不同。",
            "To stop other people's cards from being misused, a wallet only binds cards whose holder matches the account's verified identity. The name entered differs from the verified name.",
        ),
        remediation: &[
            t(
                "确认这是您本人名下的卡，并填写与实名认证一致的姓名。",
                "Make sure the card is in your own name and enter your name as verified on the account.",
            ),
            t("检查姓名中是否有错别字、同音字或多余的空格。", "Check the name for typos, similar-sounding characters or extra spaces."),
            t(
                "如果这是家人的卡，请让持卡人用自己的钱包账户绑定。",
                "If the card belongs to a family member, they need to bind it to their own wallet account.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::PaymentPasswordFormat,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("支付密码须为 6 位数字。", "The payment password must be 6 digits."),
        cause: t(
            "支付密码用于确认付款，只能由 6 位数字组成，不能含字母、空格或符号。",
            "The payment password confirms payments; it is exactly 6 digits, with no letters, spaces or symbols.",
        ),
        remediation: &[
            t("输入 6 位数字作为支付密码。", "Enter 6 digits as the payment password."),
            t("不要使用银行卡密码或登录密码。", "Do not reuse your bank card PIN or your login password."),
        ],
    },
    Entry {
        code: ErrorCode::PaymentPasswordWeak,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "支付密码过于简单，请换一个不易被猜到的 6 位数字。",
            "This payment password is too easy to guess; please choose another 6 digits.",
        ),
        cause: t(
            "相同数字（如 111111）或连续数字（如 123456、654321）的密码很容易被他人猜中，为保护资金安全不允许使用。",
            "Repeated digits (such as 111111) or runs (such as 123456 or 654321) are the first guesses anyone tries, so they are not allowed.",
        ),
        remediation: &[
            t("选择不重复、不连续的 6 位数字。", "Choose 6 digits that neither repeat nor run in sequence."),
            t("避免使用生日、手机号或身份证号中的数字。", "Avoid digits from your birthday, phone number or ID number."),
        ],
    },
    Entry {
        code: ErrorCode::HolderIdNotKycId,
        category: Category::Account,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "填写的身份证号与账户实名认证的身份证号不一致。钱包只能绑定本人名下的银行卡。",
            "The ID number entered differs from your account's verified ID number. A wallet can only bind cards in the account holder's own name.",
        ),
        cause: t(
            "为防止他人银行卡被冒用，钱包只允许绑定与账户实名信息一致的本人卡片。本次填写的身份证号与账户实名认证的号码不同。",
            "To stop other people's cards from being misused, a wallet only binds cards whose holder matches the account's verified identity. The ID number entered differs from the verified one.",
        ),
        remediation: &[
            t(
                "确认这是您本人名下的卡，并填写实名认证时使用的身份证号。",
                "Make sure the card is in your own name and enter the ID number you verified the account with.",
            ),
            t("逐位核对号码，注意最后一位 X 与数字的区别。", "Check the number character by character, minding an X in the last place."),
            t(
                "如果这是家人的卡，请让持卡人用自己的钱包账户绑定。",
                "If the card belongs to a family member, they need to bind it to their own wallet account.",
            ),
        ],
    },
    // ------------------------------------------------------------------
    // card: the card's state (locally or at the issuer)
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::CardExpired,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡已过有效期，不能再使用。", "This card has passed its expiry date and can no longer be used."),
        cause: t(
            "卡片过了有效期后，银行不再允许使用。银行通常会在到期前寄送新卡或通知您领取。",
            "Once a card is past its expiry date, the bank no longer accepts it. Banks usually send a replacement card, or ask you to collect one, before the old one expires.",
        ),
        remediation: &[
            t(
                "使用银行换发的新卡绑定（新卡的有效期和安全码会变化，卡号也可能不同）。",
                "Bind the replacement card from your bank (its expiry date and security code differ, and the number may too).",
            ),
            t(
                "如果还没收到新卡，请联系发卡行或在银行 App 中申请换卡。",
                "If you have not received one, contact your bank or request a replacement in its app.",
            ),
            t("新卡如需激活，请先激活再绑定。", "If the new card needs activating, activate it before binding."),
        ],
    },
    Entry {
        code: ErrorCode::CardNotActivated,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡尚未激活，请先激活后再绑定。您可以直接在钱包内完成激活。",
            "This card has not been activated yet. Please activate it first; you can do so right here in the wallet.",
        ),
        cause: t(
            "新卡或换发的卡在激活之前无法使用，银行会拒绝绑定。可以在钱包内通过短信验证码激活，也可以通过银行 App、ATM 或柜台激活。",
            "A new or replacement card cannot be used until it is activated, so the bank refuses to bind it. You can activate it in the wallet with an SMS code, or through your bank's app, an ATM or a branch counter.",
        ),
        remediation: &[
            t(
                "在钱包内按提示激活：确认激活后，输入银行发送到预留手机号的短信验证码。",
                "Activate it in the wallet: confirm activation, then enter the SMS code the bank sends to your reserved phone number.",
            ),
            t(
                "如果收不到验证码，请检查手机信号、是否欠费，以及是否有拦截短信的安全软件。",
                "If the code does not arrive, check your signal, that your phone account is in credit, and whether a security app is blocking SMS.",
            ),
            t(
                "也可以通过发卡行手机银行 App、ATM，或携带身份证和银行卡到柜台激活。",
                "Alternatively, activate it in your bank's app, at an ATM, or at a branch counter with your ID card and the card.",
            ),
            t("激活后回到钱包，重新绑定这张卡。", "After activating, come back to the wallet and bind the card again."),
            t(
                "绑定成功后，可以先做一笔小额支付，确认卡片能正常使用。",
                "Once it is bound, make a small test payment to confirm the card works.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardAlreadyActivated,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡已经激活，无需再次激活，请直接绑定。",
            "This card is already active; there is no need to activate it again, just bind it.",
        ),
        cause: t(
            "卡片只需激活一次。发卡行显示这张卡已处于激活状态。",
            "A card only needs activating once, and the bank shows this card as already active.",
        ),
        remediation: &[
            t("返回绑卡页面，直接绑定这张卡。", "Go back to card binding and bind the card."),
            t(
                "如果绑卡时仍提示未激活，请联系客服，并提供卡片后四位和发卡行名称。",
                "If binding still says the card is not activated, contact support with the card's last four digits and the bank's name.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardFrozen,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Bank,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t("这张卡已被发卡银行冻结，暂时不能绑定或付款。", "Your bank has frozen this card, so for now it cannot be bound or pay."),
        cause: t(
            "银行可能因风险管控、身份证件过期、长期未使用或有权机关的要求等原因冻结卡片。冻结期间卡片不能用于支付或绑定，只有发卡行可以解除。",
            "Banks freeze cards for reasons such as risk controls, an expired ID document on file, long inactivity or an order from the authorities. A frozen card cannot be used to pay or be bound, and only the bank can unfreeze it.",
        ),
        remediation: &[
            t(
                "拨打卡片背面的发卡行客服电话，询问冻结原因和解冻方式。",
                "Call the bank's service number on the back of the card and ask why the card is frozen and how to unfreeze it.",
            ),
            t(
                "按银行要求办理解冻；如需到网点办理，请携带本人身份证和银行卡。",
                "Follow the bank's steps to unfreeze it; if you must visit a branch, bring your ID card and the bank card.",
            ),
            t("解冻后回到钱包，重新绑定这张卡。", "Once it is unfrozen, come back to the wallet and bind the card again."),
            t(
                "如需我们协助，请联系客服，并索取工单号以便跟进。",
                "If you need our help, contact support and ask for a ticket number so you can follow up.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardReportedLost,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Bank,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t(
            "这张卡已在发卡银行办理挂失，无法绑定，也不能恢复使用。",
            "This card has been reported lost or stolen at the bank: it cannot be bound or used again.",
        ),
        cause: t(
            "卡片挂失后，银行会停用这张卡，通常会为持卡人补发新卡。",
            "When a card is reported lost or stolen, the bank blocks it and usually issues a replacement to the cardholder.",
        ),
        remediation: &[
            t(
                "如果已补办新卡，请使用新卡绑定（新卡可能需要先激活）。",
                "If you have a replacement card, bind that one instead (it may need activating first).",
            ),
            t(
                "要把挂失的卡从钱包中移除，直接解绑即可（挂失的卡无需先解冻），也可以同时删除卡片数据。",
                "To remove the lost card from your wallet, just unbind it (a card reported lost need not be unfrozen first); you can delete its data at the same time.",
            ),
            t(
                "如果您没有办理过挂失，请立即拨打卡片背面的银行客服电话核实，并检查账户近期交易。",
                "If you did not report the card, call the bank's service number on the back of the card right away and check your recent transactions.",
            ),
            t(
                "联系银行或我们的客服时，切勿提供完整卡号、密码或验证码。",
                "When contacting the bank or our support, never give out the full card number, a password or a code.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardClosed,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Bank,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡对应的银行账户已销户，不能再绑定或付款。",
            "The bank account behind this card has been closed: the card can no longer be bound or pay.",
        ),
        cause: t(
            "卡片对应的银行账户已经注销，这张卡不能再使用。",
            "The bank account behind this card has been closed, and the card can no longer be used.",
        ),
        remediation: &[
            t("换一张正常使用中的银行卡绑定。", "Bind another card that is in use."),
            t(
                "如果这张卡已经绑定在钱包里，可以直接解绑并删除它，腾出名额。",
                "If the card is already in your wallet, unbind and delete it to free its place.",
            ),
            t(
                "如果您认为这张卡不应被注销，请联系发卡行核实。",
                "If you believe the card should not have been closed, contact your bank to check.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardUnavailable,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Bank,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡暂时无法绑定，请联系发卡银行了解原因。",
            "This card cannot be bound right now. Please contact the bank that issued it to find out why.",
        ),
        cause: t(
            "发卡银行对这张卡设置了限制。出于安全考虑，这里不显示具体原因，只有银行可以在核实身份后向持卡人本人说明。",
            "The bank has placed a restriction on this card. For safety the reason is not shown here; only the bank can explain it to the cardholder after checking their identity.",
        ),
        remediation: &[
            t(
                "拨打银行卡背面的客服电话或登录银行官方App，询问这张卡的状态。",
                "Call the number on the back of the card, or sign in to the bank's own app, and ask about the card's status.",
            ),
            t("如果银行为您补发了新卡，请绑定新卡。", "If the bank has issued you a replacement card, bind the new card."),
            t("如果这张卡不是您本人的，请不要继续尝试。", "If this card is not yours, please do not keep trying."),
        ],
    },
    Entry {
        code: ErrorCode::OnlinePaymentsDisabled,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡未开通快捷支付（网上支付）功能，请先在银行开通后再绑定。",
            "Online and quick payments are switched off for this card; please turn them on at your bank, then bind again.",
        ),
        cause: t(
            "绑定到钱包需要卡片开通快捷支付或网上支付。这项功能在发卡行处是关闭的：可能开卡时没有开通，也可能后来被关闭。",
            "Binding to a wallet needs the card's quick payment (online payment) service. It is switched off at the bank: either it was never turned on when the card was opened, or it was turned off later.",
        ),
        remediation: &[
            t(
                "在发卡行手机银行 App 中找到快捷支付（或网上支付、第三方支付）设置并开通。",
                "In your bank's app, find the quick payment (online or third-party payment) setting and turn it on.",
            ),
            t("也可以携带身份证和银行卡到柜台办理开通。", "Or turn it on at a branch counter, bringing your ID card and the bank card."),
            t("开通后回到钱包，重新绑定这张卡。", "Then come back to the wallet and bind the card again."),
        ],
    },
    // ------------------------------------------------------------------
    // issuer: the bank's answer or availability
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::InsufficientFunds,
        category: Category::Card,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("卡内余额或可用额度不足。", "There is not enough balance or available credit on this card."),
        cause: t(
            "发卡银行拒绝了这笔扣款：储蓄卡或预付卡的余额、信用卡的可用额度低于本次金额。",
            "The bank declined the amount: the balance of the debit or prepaid card, or the credit card's available credit, is lower than it.",
        ),
        remediation: &[
            t("在银行 App 中查看余额或可用额度。", "Check the balance or available credit in your bank's app."),
            t(
                "为储蓄卡充值、为预付卡充值，或还款以恢复信用额度后再试。",
                "Top up the debit or prepaid card, or repay the credit card, and try again.",
            ),
            t("也可以换一张已绑定的卡支付。", "Or pay with another card bound to your wallet."),
        ],
    },
    Entry {
        code: ErrorCode::FourElementsNameMismatch,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "银行反馈：填写的姓名与这张卡开户时登记的姓名不一致。",
            "Your bank says the name entered does not match the name on record for this card.",
        ),
        cause: t(
            "绑卡时，银行会核对卡号、姓名、身份证号和预留手机号。银行记录的开户姓名与本次填写的姓名不同。",
            "When binding, the bank checks the card number, name, ID number and reserved phone number together. The name it has on record for this card differs from the one entered.",
        ),
        remediation: &[
            t(
                "按开户时登记的姓名（与身份证一致）重新填写，注意错别字和多余空格。",
                "Enter the name the account was opened under (as on your ID card), watching for typos and extra spaces.",
            ),
            t("确认这张卡是您本人名下的卡。", "Make sure the card is in your own name."),
            t("如果近期改过名，请先到发卡行更新姓名信息。", "If you changed your name recently, update it at your bank first."),
            t(
                "核对无误后再提交：连续多次失败会触发安全保护，绑卡将被暂停。",
                "Submit only once you have checked: repeated failures trigger a safety pause on card binding.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::FourElementsIdMismatch,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "银行反馈：填写的身份证号与这张卡开户时登记的证件号不一致。",
            "Your bank says the ID number entered does not match its records for this card.",
        ),
        cause: t(
            "绑卡时，银行会核对卡号、姓名、身份证号和预留手机号。银行记录的开户证件号与本次填写的身份证号不同。",
            "When binding, the bank checks the card number, name, ID number and reserved phone number together. The ID number it has on record for this card differs from the one entered.",
        ),
        remediation: &[
            t(
                "对照身份证逐位核对号码后重新填写，注意最后一位 X。",
                "Check the number against your ID card character by character, minding an X in the last place, and enter it again.",
            ),
            t("确认这张卡是您本人名下、用这张身份证开立的卡。", "Make sure the card is in your own name and was opened with this ID card."),
            t(
                "如果开卡后换领过身份证或证件号码有变化，请先到发卡行更新证件信息。",
                "If your ID card was renewed or its number changed after the card was opened, update your details at the bank first.",
            ),
            t(
                "核对无误后再提交：连续多次失败会触发安全保护，绑卡将被暂停。",
                "Submit only once you have checked: repeated failures trigger a safety pause on card binding.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::FourElementsPhoneMismatch,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "银行反馈：填写的手机号不是这张卡在银行预留的手机号。",
            "Your bank says the phone number entered is not the one reserved for this card.",
        ),
        cause: t(
            "银行只认可开卡时登记的预留手机号，并向它发送验证短信。本次填写的号码与银行记录不同，常见于更换手机号后没有在银行更新。",
            "The bank only accepts the phone number reserved when the card was opened and sends verification SMS to it. The number entered differs from its records, which often happens after changing numbers without telling the bank.",
        ),
        remediation: &[
            t(
                "改用这张卡在银行预留的手机号重新绑定；不确定时，可在手机银行 App 中查看，或拨打银行客服电话查询。",
                "Bind again with the phone number reserved at the bank; if unsure, look it up in your bank's app or ask the bank's service line.",
            ),
            t(
                "如果预留号码已不再使用，请通过手机银行 App 或携带身份证和银行卡到柜台更新预留手机号。",
                "If the reserved number is no longer yours, update it in your bank's app or at a branch counter with your ID card and the bank card.",
            ),
            t("更新完成后回到钱包，重新绑定这张卡。", "Once it is updated, come back to the wallet and bind the card again."),
        ],
    },
    Entry {
        code: ErrorCode::CvvMismatch,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("银行反馈：安全码（CVV）不正确。", "Your bank says the security code (CVV) is incorrect."),
        cause: t(
            "CVV 是信用卡背面签名栏旁的 3 位数字。银行核对后发现，填写的安全码与这张卡不符。",
            "The CVV is the 3-digit number next to the signature strip on the back of the card. The bank found that the code entered does not match this card.",
        ),
        remediation: &[
            t(
                "翻到卡片背面，核对签名栏旁的 3 位数字后重新输入。",
                "Turn the card over, check the 3 digits next to the signature strip and enter them again.",
            ),
            t(
                "确认输入的是当前这张卡的安全码；换发新卡后安全码会改变。",
                "Make sure you use the code of this very card; a replacement card has a new code.",
            ),
            t(
                "核对无误后再提交：连续多次失败会触发安全保护，绑卡将被暂停。",
                "Submit only once you have checked: repeated failures trigger a safety pause on card binding.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ExpiryMismatch,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("银行反馈：有效期不正确。", "Your bank says the expiry date is incorrect."),
        cause: t(
            "银行核对后发现，填写的有效期与这张卡记录的有效期不符，常见于月份和年份填反，或填写了旧卡的有效期。",
            "The bank found that the expiry date entered differs from the one on record for this card; often month and year were swapped, or the date of an older card was used.",
        ),
        remediation: &[
            t(
                "对照卡片上的有效期，按“月/年”（MM/YY）重新填写。",
                "Read the expiry date from the card and enter it again as MM/YY, month first.",
            ),
            t("如果近期换发过新卡，请使用新卡上的有效期。", "If the card was recently replaced, use the date on the new card."),
            t(
                "核对无误后再提交：连续多次失败会触发安全保护，绑卡将被暂停。",
                "Submit only once you have checked: repeated failures trigger a safety pause on card binding.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::IssuerRestricted,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Bank,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t("发卡银行限制这张卡绑定到第三方钱包。", "Your bank does not allow this card to be bound to third-party wallets."),
        cause: t(
            "银行出于风险管控或卡片产品规则，禁止这张卡在第三方支付平台绑定或支付。这项限制只能由银行解除。",
            "For risk reasons or under the card product's rules, the bank blocks this card from being bound or used on third-party payment platforms. Only the bank can lift this.",
        ),
        remediation: &[
            t(
                "拨打卡片背面的发卡行客服电话，询问这张卡是否限制第三方支付，并申请解除限制。",
                "Call the bank's service number on the back of the card, ask whether third-party payments are restricted for it, and ask for the restriction to be lifted.",
            ),
            t("银行解除限制后，回到钱包重新绑定。", "Once the bank lifts it, come back to the wallet and bind the card again."),
            t("如果银行无法解除，请换一张卡绑定。", "If the bank cannot lift it, bind another card."),
            t(
                "如需我们协助，请联系客服，并索取工单号以便跟进。",
                "If you need our help, contact support and ask for a ticket number so you can follow up.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CardNotFoundAtIssuer,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "银行反馈：查不到这个卡号对应的银行卡，请核对卡号。",
            "Your bank has no card with this number; please check the card number.",
        ),
        cause: t(
            "卡号格式正确，开头也属于这家银行，但银行系统中没有这个卡号的记录。通常是中间某几位输错，也可能是使用了已换发的旧卡号。",
            "The number is well formed and its first digits belong to this bank, but the bank has no record of it. Usually some digits in the middle were mistyped, or the number of an older, replaced card was used.",
        ),
        remediation: &[
            t(
                "对照卡片正面（或发卡行 App 中显示的卡号）逐位核对后重新输入。",
                "Check the number digit by digit against the front of the card (or your bank's app) and enter it again.",
            ),
            t("如果这张卡换发过新卡，请使用新卡的卡号。", "If the card has been replaced, use the new card's number."),
            t(
                "核对无误后再提交：连续多次失败会触发安全保护，绑卡将被暂停。",
                "Submit only once you have checked: repeated failures trigger a safety pause on card binding.",
            ),
            t(
                "如确认卡号无误仍提示此错误，请联系发卡行确认卡片状态。",
                "If the number is right and this still appears, contact your bank to confirm the card's status.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::IssuerMaintenance,
        category: Category::Issuer,
        http_status: 503,
        fix_by: FixBy::Bank,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "发卡银行系统正在维护，请在提示的时间后重试。",
            "Your bank's system is under maintenance; please retry after the time shown.",
        ),
        cause: t(
            "银行正在进行计划内的系统维护，维护期间无法完成绑卡验证。本次操作没有产生任何变更。",
            "The bank is carrying out scheduled maintenance, and cards cannot be verified until it ends. Nothing was changed by this attempt.",
        ),
        remediation: &[
            t("在提示的时间之后重新绑定。", "Bind the card again after the time shown."),
            t(
                "可以查看钱包或发卡行发布的维护公告，了解维护时段。",
                "Check the wallet's or the bank's maintenance announcements for the maintenance window.",
            ),
            t("如急需使用，可以先绑定其他银行的卡。", "If you need a card urgently, bind a card from another bank in the meantime."),
        ],
    },
    Entry {
        code: ErrorCode::PlatformMaintenance,
        category: Category::System,
        http_status: 503,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "钱包正在进行系统维护，绑卡和支付暂停，请在提示的时间后重试。",
            "The wallet is under maintenance: binding and paying are paused. Please retry after the time shown.",
        ),
        cause: t(
            "这是钱包平台的计划内维护，与您的银行卡和发卡银行无关，维护期间所有银行的卡都无法绑定或支付。本次操作没有产生任何变更。",
            "This is scheduled maintenance of the wallet platform, not of your card or your bank: no bank's card can be bound or used until it ends. Nothing was changed by this attempt.",
        ),
        remediation: &[
            t(
                "在提示的时间之后重试，换用其他银行的卡也需等到维护结束。",
                "Retry after the time shown; a card from another bank has to wait too.",
            ),
            t("维护公告和结束时间可在钱包的服务状态页查看。", "The announcement and the end time are on the wallet's service status page."),
        ],
    },
    Entry {
        code: ErrorCode::IssuerUnavailable,
        category: Category::Issuer,
        http_status: 503,
        fix_by: FixBy::Bank,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "发卡银行暂时未能响应，本次操作没有产生任何变更，请在提示的时间后重试。",
            "Your bank did not respond in time and nothing was changed; please retry after the time shown.",
        ),
        cause: t(
            "银行系统没有在规定时间内答复，或返回了错误。这通常是暂时性的，本次请求没有产生任何变更。",
            "The bank's system did not answer in time, or answered with an error. This is usually temporary, and the request changed nothing.",
        ),
        remediation: &[
            t("在提示的时间后重试。", "Retry after the time shown."),
            t(
                "如果多次重试仍失败，请查看服务状态页或公告，确认是否为系统性故障。",
                "If it keeps failing, check the status page or announcements for a wider outage.",
            ),
            t(
                "如果问题持续，请联系客服，提供请求编号和操作时间，并索取工单号。",
                "If the problem persists, contact support with the request id and the time of the attempt, and ask for a ticket number.",
            ),
        ],
    },
    // ------------------------------------------------------------------
    // OTP challenges
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::OtpIncorrect,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "验证码不正确，请核对最新短信后重新输入。剩余尝试次数有限。",
            "The verification code is incorrect; please check the latest SMS and enter it again. Only a few tries remain.",
        ),
        cause: t(
            "输入的验证码与本次发送的不一致，常见于输入了旧短信中的验证码，或输错了某一位。",
            "The code entered does not match the one sent for this step; often a code from an older SMS was used, or one digit was mistyped.",
        ),
        remediation: &[
            t(
                "打开最新一条验证短信，核对 6 位验证码后重新输入；如果重新发送过验证码，请以最新一条为准。",
                "Open the most recent verification SMS, check the 6 digits and enter them again; if a code was resent, use the newest one.",
            ),
            t(
                "确认短信来自发卡银行或本钱包，且对应的是本次操作。",
                "Make sure the SMS comes from your bank or this wallet and is for this operation.",
            ),
            t(
                "注意：错误次数用完后本次验证将失效，需要重新获取验证码。",
                "Note that once the tries are used up, this verification ends and you need a new code.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::OtpExpired,
        category: Category::Input,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("验证码已过期，请重新获取。", "The verification code has expired; please request a new one."),
        cause: t(
            "短信验证码发送后 5 分钟内有效，超过时间即失效。",
            "SMS verification codes are valid for 5 minutes after they are sent and expire after that.",
        ),
        remediation: &[
            t("点击“重新获取验证码”。", "Request a new verification code."),
            t("收到短信后，在 5 分钟内输入新的验证码。", "Enter the new code within 5 minutes of receiving it."),
            t(
                "如果短信迟迟未到，请检查手机信号、是否欠费、SIM 卡是否正常，以及是否有拦截短信的安全软件。",
                "If the SMS is slow to arrive, check your signal, that your phone account is in credit, that the SIM card works, and whether a security app is blocking SMS.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::OtpAttemptsExhausted,
        category: Category::Risk,
        http_status: 429,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "验证码错误次数过多，本次验证已失效，请重新发起并获取新的验证码。",
            "Too many incorrect codes: this verification has ended. Please start again and request a new code.",
        ),
        cause: t(
            "为防止验证码被猜中，每次验证最多允许输错 5 次。本次验证已达到上限，无法继续使用。",
            "To stop codes from being guessed, each verification allows at most 5 wrong codes. This one has reached the limit and cannot be used any more.",
        ),
        remediation: &[
            t("重新发起绑卡（或激活），获取新的验证码。", "Start the binding (or activation) again to get a new code."),
            t("输入前仔细核对最新一条短信中的验证码。", "Check the code in the latest SMS carefully before entering it."),
            t(
                "请勿反复失败：多次失败会触发安全保护，绑卡功能将被暂停。",
                "Avoid repeated failures: they trigger a safety pause on card binding.",
            ),
            t(
                "如果您收到了并非本人申请的验证码，请勿告诉任何人，并联系客服。",
                "If you received codes you did not ask for, do not share them with anyone, and contact support.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::OtpResendCooldown,
        category: Category::Input,
        http_status: 429,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "验证码发送过于频繁，请在提示的时间后再重新获取。",
            "A new code can only be sent after a short wait; please request it again after the time shown.",
        ),
        cause: t(
            "为防止短信被滥发，两次发送验证码之间需间隔 60 秒。上一条验证码刚刚发出不久。",
            "To prevent SMS abuse, codes can be sent at most once every 60 seconds, and the previous one was sent only moments ago.",
        ),
        remediation: &[
            t("先查看是否已收到上一条验证码，收到就直接输入。", "First check whether the previous code has arrived; if so, just enter it."),
            t(
                "等待期间检查手机信号、是否欠费、SIM 卡是否正常，以及短信拦截软件或垃圾短信箱。",
                "While waiting, check your signal, that your phone account is in credit and the SIM card works, and look in any SMS blocking app or spam folder.",
            ),
            t(
                "确认接收短信的是这张卡在银行预留的手机号。",
                "Make sure the SMS goes to the phone number reserved for this card at the bank.",
            ),
            t(
                "在提示的时间后再点击重新发送；短信一直收不到时，可选择“语音验证码”，由来电播报验证码。",
                "After the time shown, request the code again; if texts do not arrive, choose a voice code: a call reads the code out.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingNotPending,
        category: Category::Input,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这次绑卡不在等待验证码的状态，无法提交验证码。", "This binding is not waiting for a verification code."),
        cause: t(
            "只有等待短信验证的绑卡才能提交验证码。这次绑卡已经完成，或已经失效（例如验证码过期或错误次数过多后被放弃）。",
            "A code can only be submitted for a binding that is waiting for SMS verification. This one is already complete, or was abandoned (after the code expired or too many wrong tries, for example).",
        ),
        remediation: &[
            t("在银行卡管理中查看这张卡是否已经绑定成功。", "Check card management to see whether the card is already bound."),
            t(
                "如果没有绑定成功，请重新发起绑卡，并输入新收到的验证码。",
                "If it is not, start the binding again and enter the new code you receive.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingNotActive,
        category: Category::Input,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡目前不是已绑定可用的状态。", "This card is not bound and usable right now."),
        cause: t(
            "只有绑定成功（已验证短信验证码）且未冻结、未解绑的卡才能进行此操作。",
            "Only a card whose binding is complete (SMS code confirmed) and that is not frozen or being unbound can be used for this.",
        ),
        remediation: &[
            t(
                "如果绑定还在等待验证码，请先输入短信验证码完成绑定。",
                "If the binding is still waiting for its SMS code, enter the code to finish it first.",
            ),
            t(
                "在卡片管理中查看这张卡的状态；已冻结的卡需先解冻。",
                "Check the card's status in card management; a frozen card must be unfrozen first.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::MandateAlreadyExists,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡已与该商户开通了自动扣款协议，无需重复开通。",
            "This card already has an autopay agreement with this merchant; there is no need to set up another.",
        ),
        cause: t(
            "同一张卡与同一商户只能有一份有效（待生效、生效中或已暂停）的自动扣款协议，以免重复扣款。",
            "A card can have only one standing autopay agreement (pending, active or suspended) with a merchant, so that no charge is taken twice.",
        ),
        remediation: &[
            t(
                "在钱包的自动扣款管理中查看现有协议及其限额。",
                "Look at the existing agreement and its limit in the wallet's autopay settings.",
            ),
            t(
                "如需更改限额或类型，先取消现有协议，再重新开通。",
                "To change its limit or kind, cancel the existing agreement first, then set up a new one.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::MandateNotActive,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这份自动扣款协议已经取消、到期或未开通成功，无法再操作。",
            "This autopay agreement is already cancelled, expired or was never set up, so it cannot be changed.",
        ),
        cause: t(
            "只有待生效、生效中或已暂停的协议才能取消。这份协议当前的状态可以在钱包的自动扣款协议列表中查看。",
            "Only a pending, active or suspended agreement can be cancelled. This agreement's status is in the response's details.",
        ),
        remediation: &[
            t("刷新自动扣款管理，查看协议的当前状态。", "Refresh the autopay settings to see the agreement's current status."),
            t(
                "协议已取消或到期时，商户不能再用它扣款，无需其他操作。",
                "A cancelled or expired agreement can no longer be charged by the merchant; nothing else is needed.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::MandateLimitExceeded,
        category: Category::Policy,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "本次扣款超出了自动扣款协议的单笔限额（或币种与协议不符），未扣款。",
            "This charge is over the autopay agreement's per-charge limit (or in another currency), so nothing was charged.",
        ),
        cause: t(
            "持卡人开通自动扣款时为每笔扣款设定了上限和币种。超出上限的扣款需要持卡人本人确认，不能通过协议自动扣款。",
            "When the holder set up the agreement they set a limit and a currency for each charge. A charge above that limit needs the holder's own confirmation and cannot be taken under the agreement.",
        ),
        remediation: &[
            t(
                "商户：按协议限额（见返回信息中的 max_amount 和 currency）发起扣款，或请持卡人单独确认这笔付款。",
                "Merchant: charge within the agreement's limit (max_amount and currency in the details), or ask the holder to confirm this payment on its own.",
            ),
            t(
                "持卡人：如需提高限额，请取消现有协议后以新的限额重新开通。",
                "Holder: to raise the limit, cancel the agreement and set up a new one with the higher limit.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnbindBlocked,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡暂时还不能解绑，原因已全部列在返回信息中；本次没有做任何变更。",
            "This card cannot be unbound yet; every reason is listed in the response, and nothing was changed.",
        ),
        cause: t(
            "解绑前会一次性检查所有条件，并逐项列出未满足的原因：这张卡上仍有生效中的自动扣款协议；有尚未结清的付款（已授权但商户尚未扣款，或退款、扣款仍在等待银行确认）；这张卡已被冻结；或账户已被临时锁定。Bangka 绝不会在您不知情时替您取消自动扣款协议，所以会先停下来告诉您。",
            "Before unbinding, every condition is checked at once, and blockers in the response details lists each one not met: the card still has active autopay agreements; some payments are not settled yet (authorized but not yet charged by the merchant, or a refund or charge still waiting for the bank's confirmation); the card is frozen; or the account is temporarily locked. Bangka never cancels your autopay agreements without telling you, so it stops and tells you first.",
        ),
        remediation: &[
            t("查看返回信息中列出的每一项原因，逐项处理。", "Go through each reason listed in the response and deal with them one by one."),
            t(
                "自动扣款协议：可在自动扣款管理中逐个取消，也可以在重新发起解绑时选择同时取消这些协议。",
                "Autopay agreements: cancel them one by one in the autopay settings, or choose to cancel them as part of the unbind when you start it again.",
            ),
            t(
                "未结清的付款：请等待商户完成扣款或释放预授权、银行确认后再试（返回信息列出每笔付款及其状态）；账户被锁定：请在提示的时间之后再试。",
                "Unsettled payments: wait until the merchant captures or releases them and the bank confirms (the response lists each payment and its status); a locked account: try again after the time shown.",
            ),
            t(
                "卡片已冻结：请先解冻再解绑（已挂失的卡无需解冻，可以直接解绑）。全部处理完后，重新发起解绑。",
                "A frozen card: unfreeze it first (a card reported lost or stolen needs no unfreezing and is unbound as it is). Once everything is dealt with, start the unbind again.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnbindInProgress,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡的解绑已经确认，正处于冷静期，无需再次解绑。",
            "The unbind of this card is already confirmed and in its cooling-off period; there is no need to unbind it again.",
        ),
        cause: t(
            "解绑确认后会先进入冷静期（默认 24 小时），冷静期结束时的时间见返回信息。冷静期内您可以撤销解绑，继续使用这张卡；冷静期结束后，卡片会自动解绑。",
            "Once an unbind is confirmed, a cooling-off period starts (24 hours by default); the response details give the time it ends. During it you can revoke the unbind and keep the card; after it, the card is unbound automatically.",
        ),
        remediation: &[
            t(
                "如果确实要解绑，无需任何操作，冷静期结束后卡片会自动解绑。",
                "If you do want to unbind the card, do nothing: it is unbound automatically when the cooling-off ends.",
            ),
            t(
                "如果想保留这张卡，请在冷静期结束前，在钱包的银行卡管理中撤销解绑。",
                "If you want to keep the card, revoke the unbind in card management in the wallet before the cooling-off ends.",
            ),
            t(
                "如果解绑不是您本人发起的，请立即撤销解绑并联系客服。",
                "If you did not start this unbind, revoke it at once and contact support.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::UnbindNotRequested,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡没有待处理的解绑申请，无法确认或撤销。",
            "There is no pending unbind request for this card, so there is nothing to confirm or revoke.",
        ),
        cause: t(
            "确认或撤销解绑都需要先发起解绑申请。这张卡从未发起过解绑，或之前的解绑申请已经过期失效。",
            "Confirming or revoking an unbind needs an unbind request first. None was made for this card, or the earlier request has expired.",
        ),
        remediation: &[
            t("在银行卡管理中刷新并查看这张卡的当前状态。", "Refresh card management and check the card's current status."),
            t(
                "如需解绑，请先在卡片管理中发起解绑，再用收到的短信验证码确认。",
                "To unbind it, start the unbind in card management first, then confirm it with the SMS code you receive.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::DeleteRequiresUnbind,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡还没有解绑，不能直接删除。", "This card is not unbound yet, so it cannot be deleted on its own."),
        cause: t(
            "删除会永久销毁卡片数据，只能在解绑完成之后进行，或在发起解绑时一并申请。这张卡仍在使用中或正在解绑冷静期内，卡片数据没有任何改动。",
            "Deleting destroys the card's data for good, so it comes only after the unbind, or together with it when the unbind is requested. This card is still in use or in its unbind cooling-off; nothing about it was changed.",
        ),
        remediation: &[
            t(
                "发起解绑时选择同时删除卡片，冷静期结束后卡片数据会被销毁。",
                "Start the unbind and choose to delete the card too; the card's data is destroyed when the cooling-off ends.",
            ),
            t(
                "如果解绑已在冷静期内，请等冷静期结束、解绑完成后再删除。",
                "If an unbind is already in its cooling-off, wait until it completes, then delete the card.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingAlreadyDeleted,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡已经删除，卡片数据已销毁。", "This card is already deleted; its card data was destroyed."),
        cause: t(
            "这张卡之前已被删除，卡号的加密密钥已经销毁，任何人都无法再恢复卡号。钱包只保留掩码后的卡片信息和操作记录。",
            "The card was deleted before: the key that encrypted its number was destroyed, so nobody can recover the number. The wallet keeps only masked card facts and the record of what was done.",
        ),
        remediation: &[
            t(
                "无需再次删除。删除回执可在回执列表中查看和下载。",
                "There is nothing more to delete. The delete receipt is in your receipts list to view and download.",
            ),
            t("如需再次使用这张卡，请重新绑定。", "To use the card again, bind it again."),
        ],
    },
    Entry {
        code: ErrorCode::CoolingOffOver,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "冷静期已结束，这张卡已完成解绑，不能再撤销。",
            "The cooling-off period has ended: this card is unbound and the unbind can no longer be revoked.",
        ),
        cause: t(
            "解绑只能在冷静期内撤销。冷静期结束时解绑即已完成，这张卡及其支付标记已从钱包中移除。",
            "An unbind can only be revoked during its cooling-off period. When that period ended, the unbind was completed and the card and its token were removed from the wallet.",
        ),
        remediation: &[
            t(
                "如需继续使用这张卡，请在钱包中重新绑定，并按提示重新完成验证。",
                "To use the card again, bind it again in the wallet and complete the new verification it asks for.",
            ),
            t(
                "如需继续使用自动扣款，请在重新绑定后与商户重新开通。",
                "To keep autopay, set up the agreements with the merchants again after binding the card.",
            ),
            t(
                "如果解绑不是您本人发起的，请联系客服并提供请求编号。",
                "If you did not start this unbind, contact support with the request id.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingUnbinding,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡正在解绑中，暂时不能用于付款。", "This card is being unbound, so it cannot be used to pay."),
        cause: t(
            "这张卡的解绑已经确认，正处于冷静期。冷静期内卡片的支付标记已暂停，使用这张卡的付款都会被拒绝；冷静期结束后卡片会自动解绑。",
            "The unbind of this card is confirmed and its cooling-off period is running. During it the card's token is suspended and payments with the card are refused; when it ends, the card is unbound automatically.",
        ),
        remediation: &[
            t(
                "如果想继续用这张卡付款，请在钱包的银行卡管理中撤销解绑，然后重新付款。",
                "To keep paying with this card, revoke the unbind in card management in the wallet, then pay again.",
            ),
            t("否则，请改用其他已绑定的卡付款。", "Otherwise, pay with another card bound to your wallet."),
            t(
                "如果解绑不是您本人发起的，请立即撤销解绑并联系客服。",
                "If you did not start this unbind, revoke it at once and contact support.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingNotFrozen,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡没有被冻结，无需解冻。", "This card is not frozen, so there is nothing to unfreeze."),
        cause: t(
            "只有处于冻结状态的绑定卡才能解冻。这张卡当前是其他状态（例如正常可用，或正在解绑）。",
            "Only a frozen card can be unfrozen. This card is in another state (usable, for example, or being unbound).",
        ),
        remediation: &[
            t("在卡片管理中刷新并查看这张卡的当前状态。", "Refresh card management and check the card's current status."),
            t(
                "如果卡片正常可用，可以直接使用；如果付款仍被拒绝，请查看拒绝时给出的错误码。",
                "If the card is usable, just use it; if payments are still refused, look at the code given with the refusal.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::StrongVerificationRequired,
        category: Category::Account,
        http_status: 400,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这一步需要更强的身份验证，本次还缺少一项。",
            "This step needs stronger proof that it is you, and part of it is missing.",
        ),
        cause: t(
            "会让卡重新可以付款、解绑卡片、修改支付密码或更换手机号的操作，需要比普通操作更强的验证：发送到手机的短信验证码，以及（已设置时）支付密码；修改支付密码时需要当前的支付密码。本次请求缺少其中一项，或尚未获取验证码。",
            "Steps that let a card pay again, unbind a card, change the payment password or change the phone need stronger proof than other steps: the SMS code sent to the phone and, if you have set one, your payment password; changing the payment password needs the current one. This request lacked one of them, or no code was requested yet.",
        ),
        remediation: &[
            t(
                "先获取短信验证码：不带验证码提交一次，验证码就会发到手机上。",
                "Get an SMS code first: submit once without a code, and one is sent to the phone.",
            ),
            t(
                "然后把短信验证码和要求的支付密码一起提交（修改支付密码时填写当前的支付密码）。",
                "Then submit the code together with the payment password asked for (the current one, when changing it).",
            ),
            t(
                "忘记支付密码时，可在钱包中通过实名信息和短信验证码重置；原手机号已不用、收不到短信时，请先更换账户手机号。",
                "If you forgot the payment password, reset it in the wallet with your real-name details and an SMS code; if texts cannot arrive because the old phone is gone, change the account phone first.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ActivationNotPending,
        category: Category::Input,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这次激活不在等待验证码的状态，无法提交验证码。", "This activation is not waiting for a verification code."),
        cause: t(
            "只有等待短信验证的激活才能提交验证码。这次激活已经完成，或已经失效（例如验证码过期或错误次数过多后被放弃）。",
            "A code can only be submitted for an activation that is waiting for SMS verification. This one is already complete, or was abandoned (after the code expired or too many wrong tries, for example).",
        ),
        remediation: &[
            t(
                "直接尝试绑定这张卡：如果激活已经完成，绑卡即可成功。",
                "Try binding the card: if the activation already went through, binding will succeed.",
            ),
            t(
                "如果仍提示未激活，请重新发起激活，并输入新收到的验证码。",
                "If it still says the card is not activated, start the activation again and enter the new code you receive.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::BindingFrozen,
        category: Category::Card,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡在钱包中的绑定已冻结，暂时不能用于付款。",
            "This card's binding in the wallet is frozen, so it cannot be used to pay for now.",
        ),
        cause: t(
            "绑定可以由您本人冻结（例如手机丢失时），也可以由钱包出于安全原因冻结。冻结期间，使用这张卡的付款都会被拒绝，直到通过加强验证解冻。这与银行是否冻结卡片无关。",
            "A binding can be frozen by you (after losing your phone, for example) or by the wallet for safety. While it is frozen, payments with this card are refused until it is unfrozen with strong verification. This is separate from any freeze at the bank.",
        ),
        remediation: &[
            t(
                "如果是您本人冻结的，请先确认手机和账户安全，再在钱包的银行卡管理中解冻，并按提示完成身份验证。",
                "If you froze it, first make sure your phone and account are safe, then unfreeze it in card management in the wallet and complete the identity check it asks for.",
            ),
            t(
                "如果不是您本人冻结的，请联系钱包客服了解原因，并提供请求编号。",
                "If you did not freeze it, contact wallet support with the request id to learn why.",
            ),
            t("在此期间，可以改用其他已绑定的卡付款。", "Meanwhile, pay with another card bound to your wallet."),
        ],
    },
    // ------------------------------------------------------------------
    // payment: tokens, cryptograms and payments
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::TokenNotFound,
        category: Category::Payment,
        http_status: 404,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("找不到这个支付标记号码。", "No token with this number was found."),
        cause: t(
            "支付标记（token）是付款时代替真实卡号使用的号码。Bangka 中没有与本次提交的号码对应的支付标记，常见于号码抄错、来自另一个环境（测试或生产），或并非钱包返回的号码。",
            "A token is the number used in place of the real card number when paying. Bangka has no token with the number sent; usually it was copied wrongly, comes from another environment (test or production), or was not returned by the wallet at all.",
        ),
        remediation: &[
            t(
                "确认支付标记号码取自钱包获取一次性支付码的响应，并原样发送。",
                "Make sure the token number comes from the wallet's cryptogram response and is sent exactly as given.",
            ),
            t(
                "确认请求发往与钱包相同的环境（测试或生产）。",
                "Make sure the request goes to the same environment (test or production) as the wallet's.",
            ),
            t(
                "如仍找不到，请让持卡人在钱包中重新选择付款卡片，以获得新的支付码。",
                "If it is still not found, ask the holder to pick the card again in the wallet, which gives a new cryptogram.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::TokenSuspended,
        category: Category::Payment,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这张卡的支付标记已暂停使用，暂时无法用它付款。",
            "This card's token is suspended, so it cannot be used to pay for now.",
        ),
        cause: t(
            "支付标记是付款时代替真实卡号使用的号码。它已被暂停，暂停的一方可能是您本人、钱包、发卡银行或风控（钱包会告诉您是哪一方）。由发卡银行或风控暂停的，只能由他们解除。",
            "A token is the stand-in number used instead of the card number when paying. This one is suspended; suspended_by in the response details says by whom: holder (you), wallet, issuer (your bank) or risk (risk control). A suspension by the bank or risk control can only be lifted by them.",
        ),
        remediation: &[
            t(
                "如果是您本人暂停的，在钱包的银行卡管理中恢复这张卡的支付标记即可。",
                "If you suspended it yourself, resume the card's token in card management in the wallet.",
            ),
            t(
                "如果是发卡银行暂停的，请拨打卡片背面的银行客服电话询问；如果是钱包或风控暂停的，请联系钱包客服并提供请求编号。",
                "If your bank suspended it, call the service number on the back of the card; if the wallet or risk control did, contact wallet support with the request id.",
            ),
            t("在此期间，可以改用其他已绑定的卡付款。", "Meanwhile, pay with another card bound to your wallet."),
        ],
    },
    Entry {
        code: ErrorCode::TokenDeleted,
        category: Category::Payment,
        http_status: 410,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这张卡的支付标记已删除，不能再用于付款。", "This card's token has been deleted and can never be used to pay again."),
        cause: t(
            "卡片被解绑、从钱包中删除，或被银行换发新卡时，原支付标记会被永久删除，任何付款都不能再使用它。",
            "When a card is unbound, deleted from the wallet or replaced by the bank, its token is deleted for good and no payment can use it again.",
        ),
        remediation: &[
            t(
                "在银行卡管理中查看这张卡是否还在；如需继续使用，请重新绑定这张卡。",
                "Check in card management whether the card is still there; to keep using it, bind it again.",
            ),
            t(
                "如果银行已换发新卡，请绑定新卡（新卡可能需要先激活）。",
                "If the bank has replaced the card, bind the new card instead (it may need activating first).",
            ),
            t("绑定完成后，重新发起付款。", "Once it is bound, make the payment again."),
            t(
                "如果您没有解绑或删除过这张卡，请联系钱包客服核实。",
                "If you did not unbind or delete the card, contact wallet support to check.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::TokenDomainMismatch,
        category: Category::Payment,
        http_status: 403,
        fix_by: FixBy::Wallet,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t("这个支付标记属于另一个钱包，不能在这里使用。", "This token belongs to another wallet and cannot be used here."),
        cause: t(
            "每个支付标记只为一个钱包（使用范围）生成，也只能在该钱包中使用。被复制到其他地方的支付标记无法付款，以防卡片信息被冒用。",
            "Each token is provisioned for one wallet (its domain) and works only there. A token copied anywhere else cannot pay; this stops card details from being misused.",
        ),
        remediation: &[
            t(
                "接入方：使用本钱包为这张卡创建的绑定及其支付标记发起付款，不要使用从其他钱包获得的支付标记。",
                "Integrators: pay with this wallet's own binding of the card and its token, never with a token obtained from another wallet.",
            ),
            t(
                "如果持卡人想在本钱包中使用这张卡，请让其在本钱包中绑定这张卡。",
                "If the holder wants to use the card in this wallet, have them bind it in this wallet.",
            ),
            t(
                "如果持卡人没有把卡片交给他人使用，建议其立即冻结这张卡并联系客服，索取工单号以便跟进。",
                "If the holder did not share the card with anyone, advise them to freeze it at once and contact support, asking for a ticket number to follow up.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::TokenStateConflict,
        category: Category::Payment,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("支付标记当前的状态不允许此操作。", "The token's current status does not allow this action."),
        cause: t(
            "只有使用中的支付标记才能暂停，只有已暂停的支付标记才能恢复。本次操作与支付标记的当前状态不符（例如暂停一个已暂停的标记）；响应详情给出了当前状态。",
            "Only an active token can be suspended, and only a suspended one can be resumed. This action does not fit the token's current status (suspending one that is already suspended, for example); the response details give the current status.",
        ),
        remediation: &[
            t("刷新并查看支付标记的当前状态。", "Refresh and check the token's current status."),
            t(
                "如果它已是想要的状态，无需再操作；否则按当前状态选择正确的操作（暂停或恢复）后重试。",
                "If it is already in the state you wanted, nothing more is needed; otherwise choose the action that fits its status (suspend or resume) and try again.",
            ),
            t(
                "已删除的支付标记不能暂停或恢复；如需用这张卡付款，请重新绑定。",
                "A deleted token can be neither suspended nor resumed; to pay with the card, bind it again.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::TokenResumeNotAllowed,
        category: Category::Payment,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t(
            "这张卡的支付标记是由发卡银行或风控暂停的，只能由他们恢复。",
            "This card's token was suspended by your bank or by risk control, and only they can resume it.",
        ),
        cause: t(
            "由发卡银行或风控发起的暂停，不能在钱包中由您或钱包自行解除。这是为了在钱包账户落入他人之手时保护您：冒用者无法自行恢复付款。",
            "A suspension made by the bank or by risk control cannot be lifted from the wallet, by you or by the wallet. This protects you if the wallet account falls into someone else's hands: they cannot simply resume payments.",
        ),
        remediation: &[
            t(
                "如果是发卡银行暂停的，请拨打卡片背面的银行客服电话，询问原因并申请恢复。",
                "If your bank suspended it, call the service number on the back of the card to ask why and to ask for it to be resumed.",
            ),
            t(
                "如果是风控暂停的，请联系钱包客服，提供请求编号，并索取工单号以便跟进。",
                "If risk control suspended it, contact wallet support with the request id, and ask for a ticket number so you can follow up.",
            ),
            t("在此期间，可以改用其他已绑定的卡付款。", "Meanwhile, pay with another card bound to your wallet."),
        ],
    },
    Entry {
        code: ErrorCode::CryptogramInvalid,
        category: Category::Payment,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("一次性支付码无效：它不是为这个支付标记生成的。", "The cryptogram is not valid: it was not issued for this token."),
        cause: t(
            "一次性支付码（cryptogram）是持卡人确认付款后，钱包为某个支付标记获取的，只对该支付标记有效。本次提交的支付码不是为这个支付标记签发的，例如属于另一张卡的支付标记，或被修改过。",
            "A cryptogram (one-time payment code) is requested by the wallet for one token after the holder confirms a payment, and is valid only with that token. The cryptogram sent was not issued for this token; it may belong to another card's token, or have been altered.",
        ),
        remediation: &[
            t(
                "请钱包为本次付款重新获取一次性支付码，并与同一响应中的支付标记号码一起发送。",
                "Have the wallet request a new cryptogram for this payment, and send it together with the token number from the same response.",
            ),
            t("不要自行构造、修改或重复使用支付码。", "Do not construct, edit or reuse cryptograms."),
            t(
                "检查集成代码是否把不同付款的支付标记和支付码混用了。",
                "Check that the integration does not mix up tokens and cryptograms from different payments.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CryptogramReplayed,
        category: Category::Payment,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这个一次性支付码已经用过，不能再次付款。", "This cryptogram has already been used and cannot pay again."),
        cause: t(
            "每个一次性支付码只能完成一笔付款。这个支付码已用于一笔付款，再次提交会被拒绝，以防重复扣款。",
            "Each cryptogram pays once. This one has already been used for a payment, so a repeat is refused to prevent a double charge.",
        ),
        remediation: &[
            t(
                "先查看消费记录，确认第一笔付款是否已经成功；如已成功，无需任何操作。",
                "First check the payment records to see whether the first payment went through; if it did, nothing more is needed.",
            ),
            t(
                "如果第一笔付款没有成功，请让持卡人重新确认付款，获取新的支付码后再发起。",
                "If it did not, ask the holder to confirm the payment again to get a new cryptogram, and pay with that.",
            ),
            t(
                "接入方因超时需要重试时，请用相同的 Idempotency-Key 重发原请求，以取回第一次的结果。",
                "Integrators retrying after a timeout should resend the original request with the same Idempotency-Key to get the first result back.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CryptogramMismatch,
        category: Category::Payment,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "付款的金额、币种或商户与持卡人确认的不一致，本次没有扣款。",
            "The payment's amount, currency or merchant differs from what the holder confirmed; nothing was charged.",
        ),
        cause: t(
            "一次性支付码与持卡人确认时的金额、币种和商户绑定，只能用于完全相同的付款。本次付款中有一项或几项与确认时不同，响应详情中的 fields 列出了不一致的项。本次没有产生任何扣款。",
            "A cryptogram is tied to the amount, currency and merchant the holder confirmed, and can only pay exactly that. One or more of them differ in this payment; fields in the response details lists which. Nothing was charged.",
        ),
        remediation: &[
            t("查看响应详情中的 fields，找出不一致的项。", "Look at fields in the response details to see what differs."),
            t(
                "如果是集成问题，发起付款时请使用与确认时完全相同的金额（分）、币种和商户编号。",
                "If the integration changed them, pay with exactly the amount (in fen), currency and merchant id that were confirmed.",
            ),
            t(
                "如果金额或商户确实有变化，请让持卡人按新的金额和商户重新确认，获取新的支付码。",
                "If the amount or merchant really changed, ask the holder to confirm again for the new amount and merchant to get a new cryptogram.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::CryptogramExpired,
        category: Category::Payment,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("一次性支付码已过期，请重新确认付款。", "The cryptogram has expired; please confirm the payment again."),
        cause: t(
            "一次性支付码在持卡人确认付款后 5 分钟内有效。这个支付码已超过有效期，本次没有产生任何扣款。",
            "A cryptogram is valid for 5 minutes after the holder confirms the payment. This one is past that, and nothing was charged.",
        ),
        remediation: &[
            t("请持卡人重新确认付款，获取新的一次性支付码。", "Ask the holder to confirm the payment again to get a new cryptogram."),
            t("拿到新的支付码后，在 5 分钟内发起付款。", "Make the payment within 5 minutes of getting the new cryptogram."),
            t(
                "接入方应在持卡人确认后立即提交付款，不要预先获取支付码备用。",
                "Integrators should submit the payment right after the holder confirms, not fetch cryptograms in advance.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::IssuerDeclined,
        category: Category::Issuer,
        http_status: 422,
        fix_by: FixBy::Holder,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t("发卡银行拒绝了这笔付款。", "Your bank declined this payment."),
        cause: t(
            "为保护持卡人，这里不显示拒绝的具体原因：原因可能涉及卡片的状态，只能由发卡银行与持卡人本人沟通。本次没有产生扣款。",
            "To protect the cardholder, the reason is not shown here: it may concern the state of the card, which only the bank can discuss with the cardholder. Nothing was charged.",
        ),
        remediation: &[
            t(
                "拨打卡片背面的发卡行客服电话，询问这笔付款被拒绝的原因。",
                "Call the bank's service number on the back of the card and ask why the payment was declined.",
            ),
            t("在此期间，可以改用其他已绑定的卡付款。", "Meanwhile, pay with another card bound to your wallet."),
            t(
                "如果这笔付款不是您本人发起的，请立即在钱包中冻结这张卡，并联系发卡行。",
                "If you did not make this payment, freeze the card in the wallet at once and contact your bank.",
            ),
            t(
                "如需我们协助，请联系客服，提供请求编号，并索取工单号以便跟进。",
                "If you need our help, contact support with the request id and ask for a ticket number so you can follow up.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::PaymentStateConflict,
        category: Category::Payment,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("这笔付款当前的状态不允许此操作。", "The payment's current status does not allow this action."),
        cause: t(
            "只有已授权的付款才能请款（capture），只有已请款且仍有可退金额的付款才能退款。本次操作与付款的当前状态不符；响应详情给出了当前状态。",
            "Only an authorized payment can be captured, and only a captured payment with money left to refund can be refunded. This action does not fit the payment's current status; the response details give it.",
        ),
        remediation: &[
            t(
                "查看响应详情中的当前状态，或重新查询这笔付款。",
                "Check the current status in the response details, or fetch the payment again.",
            ),
            t(
                "如果付款已请款或已全额退款，说明之前的操作已经生效，无需重复。",
                "If the payment is already captured or fully refunded, the earlier action took effect and need not be repeated.",
            ),
            t("按当前状态选择正确的操作：先请款，再退款。", "Choose the action that fits the status: capture first, then refund."),
        ],
    },
    Entry {
        code: ErrorCode::AmountExceedsRemaining,
        category: Category::Payment,
        http_status: 422,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("金额超过了可请款或可退款的剩余金额。", "The amount is more than what is left to capture or refund."),
        cause: t(
            "请款金额不能超过授权金额；退款金额不能超过剩余可退金额（已请款金额减去已退款金额）。本次金额超出了上限，响应详情以“分”给出了剩余金额。本次请求没有产生任何变更。",
            "A capture cannot exceed the authorized amount, and a refund cannot exceed what is left (captured minus already refunded). This amount is above that; the response details give the remaining amount in fen. Nothing was changed.",
        ),
        remediation: &[
            t("查看响应详情中的剩余金额（单位：分）。", "Read the remaining amount (in fen) in the response details."),
            t("将金额调整为不超过剩余金额后，重新发送请求。", "Send the request again with an amount no greater than that."),
            t(
                "如需收取超出授权的金额，请让持卡人为差额另行确认一笔付款。",
                "To collect more than was authorized, ask the holder to confirm a new payment for the difference.",
            ),
        ],
    },
    // ------------------------------------------------------------------
    // risk
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::RiskLocked,
        category: Category::Risk,
        http_status: 423,
        fix_by: FixBy::Holder,
        ticket_advised: true,
        retry: RetryHint::At,
        message: t(
            "失败次数过多，为保障您的资金安全，绑卡、支付等操作已暂停，请在提示的时间后再试。",
            "Too many failed attempts: for your safety, binding and paying are paused. Please try again after the time shown.",
        ),
        cause: t(
            "短时间内多次验证失败（例如信息与银行记录不符、验证码或支付密码多次输错）会触发安全保护，相关操作将暂停至少 30 分钟，以防他人冒用您的信息。",
            "Several failed verifications in a short time (details not matching the bank's records, wrong codes or a wrong payment password) trigger a safety pause of at least 30 minutes, to stop anyone from misusing your details.",
        ),
        remediation: &[
            t("在提示的时间之后再试，暂停期间请不要反复尝试。", "Wait until the time shown, and do not keep trying during the pause."),
            t(
                "再次绑卡前，准备好银行卡和身份证，逐项核对姓名、身份证号、卡号和银行预留手机号；忘记支付密码时不要反复猜测。",
                "Before binding again, have the card and your ID card at hand and check the name, ID number, card number and reserved phone number one by one; if you forgot your payment password, do not keep guessing.",
            ),
            t(
                "如需尽快解锁，请联系客服，经本人身份核验后即可解锁；请索取工单号以便跟进。也可以在钱包中上传身份证正反面照片申请人工审核。",
                "To unlock sooner, contact support; they unlock it after verifying your identity. Ask for a ticket number so you can follow up. You can also ask for a manual review in the wallet with photos of both sides of your ID card.",
            ),
            t(
                "如果这些尝试不是您本人所为，请立即联系发卡行冻结卡片，并修改钱包登录密码。",
                "If these attempts were not yours, call your bank at once to freeze the card, and change your wallet password.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::RiskStepUpRequired,
        category: Category::Risk,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "为保障账户安全，本次操作需要输入支付密码进行验证。",
            "For your account's safety, this request needs your payment password.",
        ),
        cause: t(
            "近期账户上有较多不同的银行卡尝试绑定，安全系统要求您用支付密码确认是本人操作。这不代表您的账户有问题。",
            "Several different cards were tried on this account recently, so the safety system asks you to confirm with your payment password that it is really you. It does not mean anything is wrong with your account.",
        ),
        remediation: &[
            t("输入支付密码后重新提交。", "Enter your payment password and submit again."),
            t(
                "如果尚未设置支付密码，请先在钱包中设置，再重新绑卡。",
                "If you have not set a payment password yet, set one in the wallet first, then bind the card again.",
            ),
            t(
                "如果这些绑卡尝试不是您本人所为，请立即冻结账户并联系客服。",
                "If these attempts were not yours, freeze the account at once and contact support.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::RiskReviewRequired,
        category: Category::Risk,
        http_status: 403,
        fix_by: FixBy::Holder,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t(
            "为保障资金安全，本次绑卡需要人工审核，请联系客服。",
            "For your safety, this card binding needs a manual review. Please contact support.",
        ),
        cause: t(
            "安全系统发现这张卡近期的使用情况需要人工确认，暂时不能自动完成绑卡。审核通过后即可正常绑定。",
            "The safety system found that this card's recent use needs a person to confirm it, so the binding cannot finish automatically. Once the review passes, the card binds normally.",
        ),
        remediation: &[
            t(
                "在钱包中申请人工审核：上传身份证正反面和银行卡的照片，并简单说明情况。",
                "Ask for a manual review in the wallet: upload photos of both sides of your ID card and of the bank card, with a short statement.",
            ),
            t(
                "审核结果会通过短信和推送通知您；通过后即可重新绑卡。",
                "You will be told the result by SMS and push; once approved, bind the card again.",
            ),
            t(
                "如有疑问，可提交工单（钱包会自动附上本次失败的信息）。",
                "If you have questions, open a ticket (the wallet attaches this failure's details for you).",
            ),
            t("审核期间请不要反复尝试绑卡。", "Please do not keep trying to bind the card during the review."),
        ],
    },
    Entry {
        code: ErrorCode::AccountNotLocked,
        category: Category::Risk,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("该账户当前没有风控锁定，无需解锁。", "This account has no risk lock running, so there is nothing to unlock."),
        cause: t(
            "解锁只针对正在生效的风控锁定（账户、银行卡、设备或 IP）。该账户的锁定已到期、已被解除，或从未被锁定。",
            "An unlock lifts risk locks that are running (on the account, a card, a device or an IP). This account's lock has ended, was lifted already, or never existed.",
        ),
        remediation: &[
            t(
                "刷新账户状态（GET /v1/ops/accounts/{id}/risk）确认当前是否仍有锁定。",
                "Refresh the account's state (GET /v1/ops/accounts/{id}/risk) to see whether any lock is still running.",
            ),
            t(
                "如果持卡人仍然无法操作，请查看其错误编码，按对应的处理步骤协助。",
                "If the holder still cannot proceed, look at the error code they see and follow its steps.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::TicketStateConflict,
        category: Category::Policy,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("工单当前的状态不支持此操作。", "The ticket's current status does not allow this."),
        cause: t(
            "工单按“待处理 → 已升级 → 已解决 → 已关闭”的顺序流转，不能回退：已升级的工单不能再次升级，未解决的工单不能关闭。错误详情中给出工单当前的状态。",
            "A ticket moves open, then escalated, then resolved, then closed, and never back: an escalated ticket cannot be escalated again, and one not yet resolved cannot be closed. The details give the ticket's current status.",
        ),
        remediation: &[
            t("查看工单的当前状态和处理记录（GET 工单详情）。", "Look at the ticket's current status and history (GET the ticket)."),
            t(
                "已升级的工单会在新的截止时间前得到专人答复；如果问题已解决后又出现，请新建工单并引用原工单号。",
                "An escalated ticket gets a specialist's answer by its new deadline. If a resolved problem comes back, open a new ticket and quote the old number.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ReviewMaterialsInvalid,
        category: Category::Input,
        http_status: 400,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "审核材料不完整或格式不正确，请按提示补充后重新提交。",
            "The review materials are incomplete or not in the right form. Please add what is missing and submit again.",
        ),
        cause: t(
            "人工审核需要上传身份证正反面照片；绑卡审核还需要银行卡照片。每次最多 10 份材料，每份材料需是钱包上传后得到的引用。提示中会列出缺少的材料。",
            "A manual review needs photos of both sides of the ID card; a card review also needs a photo of the bank card. At most 10 materials, each a reference the wallet got when it uploaded the file. `missing` in the details lists what is missing.",
        ),
        remediation: &[
            t(
                "按提示拍摄并上传缺少的材料，确保照片清晰、四角完整、无遮挡。",
                "Take and upload the missing photos; make sure they are sharp, show all four corners and nothing is covered.",
            ),
            t("重新提交审核。", "Submit the review again."),
        ],
    },
    Entry {
        code: ErrorCode::ReviewNotApplicable,
        category: Category::Risk,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("当前没有需要人工审核的事项。", "There is nothing that needs a manual review right now."),
        cause: t(
            "人工审核用于解除风控锁定、放行被暂停的绑卡，或修改实名信息。您的账户当前没有风控锁定、没有被暂停的绑卡，或尚未完成实名认证（请先完成实名认证再申请修改）。",
            "A manual review lifts a risk lock, releases a card binding that was held, or changes the real-name record. Your account has no lock or held binding right now, or has not completed real-name verification yet (verify first, then ask for a change).",
        ),
        remediation: &[
            t("如果绑卡或其他操作失败，请查看该错误的处理步骤。", "If a binding or another operation failed, follow that error's steps."),
            t("如需帮助，请提交工单。", "If you need help, open a ticket."),
        ],
    },
    Entry {
        code: ErrorCode::ReviewAlreadyPending,
        category: Category::Risk,
        http_status: 409,
        fix_by: FixBy::Holder,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "您已有一项同类审核正在处理中，请耐心等待结果。",
            "You already have a review of this kind in progress. Please wait for its result.",
        ),
        cause: t(
            "同一类审核同时只能有一项在处理，以免重复审核。错误详情中给出正在处理的审核编号。",
            "Only one review of a kind can be in progress at a time, so nothing is reviewed twice. The details give the review in progress.",
        ),
        remediation: &[
            t(
                "在钱包中查看该审核的状态；结果会通过短信和推送通知您。",
                "Check the review's status in the wallet; you will be told the result by SMS and push.",
            ),
            t("如果需要补充材料，请联系客服。", "If you need to add materials, contact support."),
        ],
    },
    Entry {
        code: ErrorCode::ReviewAlreadyDecided,
        category: Category::Risk,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t("该审核已经有了结果，不能再次处理。", "This review has already been decided and cannot be decided again."),
        cause: t(
            "每项审核只能批准或驳回一次。错误详情中给出已有的结果。",
            "A review is approved or rejected once. The details give the decision already made.",
        ),
        remediation: &[
            t("刷新审核列表查看结果。", "Refresh the review list to see the decision."),
            t("如果需要重新审核，请让持卡人提交新的审核申请。", "If it needs another look, have the holder submit a new review."),
        ],
    },
    Entry {
        code: ErrorCode::ReviewWaitingPeriod,
        category: Category::Risk,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::At,
        message: t(
            "该审核还在等待期内，等待期结束后才能批准。",
            "This review is still in its waiting period and can be approved only after it ends.",
        ),
        cause: t(
            "把账户换到新手机号、或解除因手机丢失而设的冻结，会让一部没有验证过的手机接管账户。为防止他人冒用，这类申请提交后要等待 24 小时才能生效；期间账户原手机号、推送和邮箱都会收到通知，本人可以撤回。等待期结束的时间见 retry_after。",
            "Moving an account to a new phone, or lifting a freeze set for a lost phone, hands the account to a phone it has not proven. So that nobody else can do it, such a request takes effect no sooner than 24 hours after it was sent; meanwhile the account's phone, push and email are told, and the holder can withdraw it. retry_after says when the waiting period ends.",
        ),
        remediation: &[
            t("等待期结束后再批准；在此之前可以驳回。", "Approve after the waiting period ends; until then you may reject it."),
            t(
                "如果持卡人来电说不是本人申请，驳回该审核，或请持卡人在钱包中撤回。",
                "If the holder calls to say they did not ask for it, reject the review, or have the holder withdraw it in the wallet.",
            ),
        ],
    },
    Entry {
        code: ErrorCode::ApiKeyNotActive,
        category: Category::Policy,
        http_status: 409,
        fix_by: FixBy::Wallet,
        ticket_advised: false,
        retry: RetryHint::Never,
        message: t(
            "这个 API 密钥已被吊销、已过期或已经轮换过，不能再轮换。",
            "This API key is revoked, expired or rotated already, so it cannot be rotated.",
        ),
        cause: t(
            "轮换会在旧密钥仍然有效时生成一个接替它的新密钥；已吊销、已过期或已有接替者的密钥不能再轮换。错误详情给出密钥的状态和接替它的密钥。",
            "A rotation makes a new key to replace one that still works; a key that is revoked, expired or already replaced cannot be rotated again. The details give the key's status and the key that replaced it.",
        ),
        remediation: &[t(
            "需要新密钥时，新建一个同角色的密钥（控制台“密钥”页，或 bangka keys create），把它配置到使用方后吊销不再使用的旧密钥。",
            "If you need a key, create a new one with the same role (the console's Keys page, or bangka keys create), configure it where it is used, then revoke keys no longer in use.",
        )],
    },
    // ------------------------------------------------------------------
    // system
    // ------------------------------------------------------------------
    Entry {
        code: ErrorCode::Internal,
        category: Category::System,
        http_status: 500,
        fix_by: FixBy::Wallet,
        ticket_advised: true,
        retry: RetryHint::Never,
        message: t(
            "我们这边出现了意外错误，请稍后重试；如问题持续，请联系客服并提供请求编号。",
            "Something went wrong on our side. Please try again; if it keeps happening, contact support with the request id.",
        ),
        cause: t(
            "Bangka 内部发生了意外错误，与您填写的信息无关。本次操作没有产生变更，或可以使用相同的 Idempotency-Key 安全地重试。",
            "An unexpected error occurred inside Bangka; it was not caused by the details you entered. Either nothing was changed, or the operation can be retried safely with the same Idempotency-Key.",
        ),
        remediation: &[
            t(
                "稍后重试；接入方请使用相同的 Idempotency-Key 重试，操作不会被重复执行。",
                "Try again shortly; integrators should retry with the same Idempotency-Key so the operation is not carried out twice.",
            ),
            t(
                "如果问题持续，请联系客服，提供请求编号（request_id）和操作时间，并索取工单号。",
                "If it keeps happening, contact support with the request id (request_id) and the time of the attempt, and ask for a ticket number.",
            ),
            t(
                "联系客服时，切勿提供完整卡号、密码或验证码。",
                "When contacting support, never give out the full card number, a password or a code.",
            ),
        ],
    },
];
