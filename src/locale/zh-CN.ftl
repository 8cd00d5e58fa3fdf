# 声波的中文消息。每个 id 在 en.ftl 里都有同样参数的对应条目（src/locale/tests.rs 检查）。

## 诊断 (src/diag.rs)
diag-error = 错误
diag-warning = 警告
diag-help = 提示
did-you-mean = 是不是 `{ $name }`？
expected-one-of = 应为以下之一：{ $list }
unknown-key = 未知的键 `{ $key }`

## check (src/check/)
check-summary = { $errors } 个错误，{ $warnings } 个警告，涉及 { $files } 个文件；{ $campaigns } 个活动，{ $messages } 条消息，{ $townships } 个乡镇
check-no-schedules = `{ $root }` 里没有 `schedules` 文件夹：活动文件应放在 `schedules/*.toml`
check-cannot-check = 无法检查 `{ $root }`
check-population-note = 人口：{ $name } `{ $code }` { $people } 人（`{ $source }`），原估计 { $was } — { $file }
check-unused = （没有活动使用）
check-pair-verdict = 消息 `{ $id }`：{ $reasons }{ $unused }
check-clip-warning = 音频通过检测但有提醒：{ $reasons }{ $unused }
check-clip-rejected = 音频未通过检测：{ $reasons }{ $unused }
check-unknown-message = 未知的消息 `{ $id }`
check-catalog-holds = 现有的消息：{ $list }
check-message-cannot-air = 消息 `{ $id }` 无法在活动 `{ $campaign }` 中播出：{ $reason }
check-message-never-valid = 消息 `{ $id }` 的有效日期与活动 `{ $campaign }` 的日期没有交集
check-message-valid-range = 该消息的有效期为 { $from } 至 { $until }
check-any-day = 不限
check-open-ended = 不限
check-conflict = 活动 `{ $loser }` 和 `{ $winner }` 在同一分钟要用同一个乡镇（今后 { $days } 天内 { $slots } 次，涉及 { $townships } 个乡镇，第一次在 { $time }，{ $township }）；播出的是 `{ $winner }`
check-conflict-priority = `{ $winner }` 的优先级 { $high } 高于 { $low }
check-conflict-equal = 优先级相同（{ $priority }）：活动 id 较小的播出

## check 不读的文件 (src/check/files.rs)
files-empty-schedules = `schedules/` 里没有活动文件（`*.toml`）：不会播出任何内容
files-wrong-extension = 不会读取 `{ $file }`：活动文件的扩展名应为 `.toml`
files-rename-to = 请改名为 `{ $name }`
files-upper-extension = 不会读取 `{ $file }`：扩展名应为小写的 `.toml`
files-subfolder = `{ $file }` 是文件夹，不会读取：活动文件应直接放在 `schedules/` 里
files-move-up = 请把其中的 `.toml` 文件移到 `schedules/`
files-backup = `{ $file }` 像是编辑器的备份文件，不会读取
files-delete-backup = 请删除它；如果是有意保留的，可忽略此警告
files-settings-misspelt = `{ $file }` 会被当作活动文件读取，但它看起来是设置文件
files-settings-name = 设置文件的名字是 `settings.toml`

## 文件的文字 (src/check/text.rs)
text-not-utf8 = `{ $file }` 不是 UTF-8 编码（看起来是 { $encoding }）
text-save-utf8 = 请另存为 UTF-8：记事本选“另存为”，编码选“UTF-8”；WPS 或 Excel 保存时选“UTF-8”
text-fullwidth = 中文输入法打出的全角`{ $char }`（{ $name }）
text-type-halfwidth = 请改为半角的 `{ $ascii }`（把输入法切换到英文标点）
fw-colon = 全角冒号
fw-comma = 全角逗号
fw-equals = 全角等号
fw-quote = 全角引号
fw-bracket = 全角方括号
fw-space = 全角空格
fw-period = 全角句号
text-duplicate-key = 键 `{ $key }` 出现了两次：第 { $first } 行和第 { $second } 行
text-keep-one = 只保留其中一个
text-unclosed = 这里打开的 `{ $open }` 没有闭合
text-close-it = 在这一行末尾加上 `{ $close }`
text-slots-single = `[slots]` 表示单个表，但活动的时段是一个列表
text-slots-double = 每个时段前写 `[[slots]]`（两层方括号）

## 时区 (src/check/tz.rs)
tz-unknown = 未知的时区 `{ $zone }`
tz-use-shanghai = 北京时间写作 `Asia/Shanghai`
tz-far = 时区 `{ $zone }` 与 UTC 相差 { $offset }，离北京时间（UTC+8）很远
tz-etc-sign = `Etc/GMT+8` 表示 UTC−8（符号是反的）；北京时间写作 `Asia/Shanghai`

## 查找地名 (src/directory/lookup.rs)
lookup-unknown-county = 未知的县市 `{ $query }`
lookup-unknown-township = 未知的乡镇 `{ $query }`
lookup-ambiguous = `{ $query }` 对应 { $count } 个乡镇（{ $list }）；请写代码或 `县/乡镇`
lookup-county-code-in-townships = `{ $query }` 是县市 { $name } 的代码，不是乡镇的
lookup-use-counties = 要覆盖整个县，请写在 `counties = ["{ $query }"]` 里
lookup-township-code-in-counties = `{ $query }` 是乡镇 { $name }（{ $county }）的代码，不是县市的
lookup-use-townships = 请写在 `townships = ["{ $query }"]` 里
lookup-village = `{ $query }` 是 { $county } { $township } `{ $code }` 下的村（社区），不是乡镇
lookup-use-township = 请写它所属的乡镇 `{ $code }`（{ $township }）；只对这个村广播请写在 `[targets]` 的 `villages = ["{ $query }"]` 里
lookup-unknown-village = 未知的村（社区） `{ $query }`
lookup-ambiguous-village = `{ $query }` 对应 { $count } 个村（社区）（{ $list }）；请写 12 位代码或 `乡镇/村`
lookup-township-in-villages = `{ $query }` 是乡镇 { $name } `{ $code }`（{ $county }），不是村
lookup-expected-village = 应为 12 位村代码、村名或 `乡镇/村`，例如 `竹核镇/尼日村`
lookup-suggest-village = 是不是 { $name } `{ $code }`（{ $county } { $township }）？
targets-village-in-whole-township = { $village } 所在的乡镇 { $township } 已整体列入目标，这一项不增加任何村
lookup-suggest = 是不是 { $name } `{ $code }`（{ $county }）？
lookup-suggest-county = 是不是 { $name } `{ $code }`？
lookup-expected-county = 应为 6 位县市代码或县市名称，例如 `昭觉县`
lookup-expected-township = 应为 9 位乡镇代码、乡镇名称或 `县/乡镇`，例如 `昭觉县/竹核镇`

## shengbo directory (src/cli/directory.rs)
dir-col-level = 级别
dir-col-code = 代码
dir-col-name = 名称
dir-col-county = 县市
dir-col-township = 乡镇
dir-col-population = 人口
dir-col-endpoint = 播出平台
dir-col-campaigns = 活动
dir-level-county = 县市
dir-level-township = 乡镇
dir-level-village = 村
dir-estimated = （估）
dir-none = —
dir-no-match = 目录里没有与 `{ $query }` 相符的地名
dir-count = { $counties } 个县市，{ $townships } 个乡镇，{ $villages } 个村；标（估）的人口为估计值

## 设置 (src/settings.rs)
locale-unknown = 未知的界面语言 `{ $value }`，应为 `zh` 或 `en`

## 活动的目标和静默时段 (src/schedule/targets.rs)
quiet-invalid = 静默时段 `{ $text }` 无效，应为 `HH:MM-HH:MM`，例如 `22:00-06:30`
quiet-same-time = 静默时段 `{ $text }` 的开始和结束时间相同，应为 `HH:MM-HH:MM`，例如 `22:00-06:30`
quiet-none = 无
quiet-override-untargeted = `{ $township }` 的静默时段不起作用：活动没有覆盖这个乡镇
quiet-override-twice = 乡镇 { $code } 的静默时段写了两次
targets-missing = 缺少 `[targets]`，应写 `all = true`、`counties` 或 `townships`
targets-adds-nothing = 有了 `all = true`，`{ $key }` 不起作用
targets-excluded-untargeted = 排除了 `{ $text }`，但它本来就不在目标里
targets-none = 活动没有覆盖任何乡镇：请写 `all = true`、`counties` 或 `townships`，排除之后至少留下一个乡镇
slot-always-quiet = 时段 `{ $cron }` 总是落在静默时段（{ $quiet }）内，永远不会播出
slot-move = 请调整时段或修改 `quiet_hours`
slot-partly-quiet = 时段 `{ $cron }` 在 { $times }{ $more ->
        [0] {""}
       *[other] 等（另有 { $more } 个）
    } 落在静默时段（{ $quiet }）内；这些广播会被跳过

## 日期 (src/check/forms.rs, src/schedule/validate.rs)
date-invalid = `{ $key }` 的日期 `{ $text }` 无效，应写成 `2026-12-01` 这样
date-write-as = 请写成 `{ $date }`

## crontab 行 (src/check/forms.rs, src/schedule/programme.rs)
cron-invalid = crontab 行 `{ $cron }` 无效：{ $reason }
cron-write-as = 请写成 `{ $line }`

## 活动的键 (src/schedule/validate.rs, src/schedule/programme.rs)
campaign-name-expected = 活动名称，例如 `全州防诈骗宣传`
campaign-id-from-file = 文件名 `{ $stem }` 不能作为活动 id，请加一个 `id` 键，例如 `id = "prefecture-wide"`（小写字母、数字、`-`、`_`）
campaign-id-invalid = 活动 id `{ $id }` 无效，只能用小写字母、数字、`-` 或 `_`
campaign-ended = 活动已于 { $until } 结束（{ $tz } 今天是 { $today }），不会再播出
key-empty = `{ $key }` 是空的，应为{ $expected }
key-missing = 缺少键 `{ $key }`，应为{ $expected }
date-not-a-date = `{ $key }` 的值 `{ $text }` 无效，应为日期，例如 `2026-12-01`（不带时间）
valid-until-before-from = `valid_until` { $until } 早于 `valid_from` { $from }，应为同一天或之后的日期
rotation-round-robin-days = 轮播（round-robin）按每次时段触发计数，活动不播出的日子也算：隔天逢集的乡镇可能每次都听到同一条消息
rotation-use-all = 用 `rotation = "all"`，在播出的每一天播出全部消息
rotation-unknown = 未知的轮播方式 `{ $rotation }`，应为 `all` 或 `round-robin`
messages-missing = 缺少键 `messages`，应为消息 id 列表，例如 `messages = ["police-impersonation"]`
messages-empty = `messages` 是空的，至少要有一个消息 id
message-id-invalid = 消息 id `{ $id }` 无效，应为 `audio/` 里某个文件夹的名字（小写字母、数字、`-`、`_`）
message-listed-twice = 消息 `{ $id }` 列了两次
order-twice = 语言 `{ $code }` 在 `order` 里列了两次
order-unknown = `order` 里的语言 `{ $code }` 未知，应为 `ii`（彝语）或 `zh`（普通话）
order-empty = `order` 是空的，应为 `["ii", "zh"]`
order-single = `order` 只有一种语言，应为两种（`["ii", "zh"]`），除非设置 `allow_single_language = true`
gap-out-of-range = `gap_s` { $value } 超出范围，应为 0 到 { $max } 秒
whole-out-of-range = `{ $key }` { $value } 超出范围，应为 { $lo } 到 { $hi } 之间的整数
slots-missing = 缺少 `[[slots]]`，至少要有一个时段，例如 `[[slots]]` 下写 `cron = "0 8 * * *"`
slot-cron-missing = `[[slots]]` 缺少键 `cron`，应为 crontab 行，例如 `cron = "0 8 * * *"`
slot-twice = 时段 `{ $cron }` 列了两次，只会触发一次

## 设置的取值 (src/settings/checks.rs)
settings-out-of-range = `[{ $section }]` 里的 `{ $key }` 是 `{ $value }`：应为{ $expected }
settings-use-default = 删掉这一行即用默认值 `{ $default }`
settings-gate-durations = `[gate]` 里的 `min_duration_s`（{ $min }）必须小于 `max_duration_s`（{ $max }）
settings-ebd = `[ebd]`：{ $reason }
settings-ebd-defaults = 改正之前，`[ebd]` 的所有键都用默认值
settings-ebd-extra-left-out = 这个编码不会使用；每个都应是本方的 { $digits } 位资源编码，且只写一次
expect-positive-seconds = 正的秒数
expect-seconds = 零或更多秒
expect-silence-level = 低于 0 dBFS 的电平，例如 `-45`
expect-share = 0 到 1 之间的比例
expect-peak-level = 不高于 0 dBFS 的电平
expect-min-lufs = -70 到 0 LUFS 之间的响度，例如 `-45`
expect-ratio = 1 或更大的比值
expect-at-least-one = 至少为 1
expect-target-lufs = -70 到 0 LUFS 之间的响度，例如 `-16`
expect-true-peak = -70 到 0 dBTP 之间的上限，例如 `-1`
expect-lu = 零或更多 LU
population-township-empty = `township` 不能为空
population-people-zero = `people` 必须大于 0
population-source-empty = `source` 不能为空
population-name-source = 请写明数字的来源，例如 `乡政府 2024 户籍统计`
settings-unreadable = 无法读取设置文件：{ $reason }
settings-defaults = 文件能读取之前，所有设置都用默认值
population-override = 人口修正：{ $reason }
population-twice = 乡镇 `{ $code }` 已经有一条人口修正
population-first-at = 第一条在第 { $line } 行；只保留一条

## 消息目录与音频检测 (src/catalog/)
cannot-read = 无法读取 `{ $path }`：{ $reason }
catalog-no-audio = `{ $root }` 里没有 `audio` 文件夹：录音应放在 `audio/<消息 id>/ii.<扩展名>` 和 `zh.<扩展名>`
catalog-id-not-ascii = 消息 id `{ $id }` 不是小写英文字母
catalog-id-letters = 请用字母 a-z、数字和 `-`，例如 `police-impersonation`
catalog-unknown-file = 消息文件夹里有未知文件 `{ $name }`
catalog-folder-holds = 消息文件夹里应有 `message.toml`、`ii.<扩展名>` 和 `zh.<扩展名>`
catalog-meta-broken = `message.toml` 缺失或有错误
catalog-two-recordings = `{ $lang }` 的录音不止一个：{ $files }
catalog-no-meta = 消息 `{ $id }` 没有 `message.toml`
catalog-add-meta = 请添加 `message.toml`，写上 `title_zh`、`topic` 和 `[text]`
gate-undecodable = 无法解码：{ $reason }
gate-stand-in = 临时替代录音：{ $note }
gate-empty = 音频是空的：没有声音
gate-too-short = 音频太短：{ $seconds } 秒，最短 { $min } 秒
gate-too-long = 音频太长：{ $seconds } 秒，最长 { $max } 秒
gate-mostly-silent = 音频大部分是静音：{ $percent }% 低于 { $level } dBFS（最多允许 { $allowed }%）
gate-clipped-run = 音频削波：连续 { $samples } 个采样达到满幅
gate-clipped-peaks = 音频削波：{ $samples } 个采样达到或超过 { $level } dBFS
gate-bad-packets = { $packets } 个音频包中有 { $bad } 个损坏，已跳过
gate-silent = 音频是静音：测不到响度
gate-nearly-silent = 音频几乎是静音：{ $lufs } LUFS，低于最低的 { $min } LUFS
gate-same-file = 两种语言是同一个文件（sha256 相同）
gate-same-audio = 两种语言是同一段声音（解码后的声音相同）
gate-lengths-differ = 两种语言的长度相差很大：`ii` { $ii } 秒，`zh` { $zh } 秒（比值 { $ratio }，超过 { $max }）
gate-no-ii = 没有彝语（`ii`）录音
gate-no-zh = 没有普通话（`zh`）录音
meta-empty = `{ $key }` 不能为空
meta-text-missing = `[text]` 里没有 `{ $lang }`（{ $name }）
meta-until-before-from = `valid_until` { $until } 早于 `valid_from` { $from }
meta-in-table = `[{ $table }]` 里：{ $reason }
meta-date = 应为日期，例如 `2026-01-31`，实际是 `{ $text }`
lang-unknown = 未知的语言 `{ $code }`，应为 `ii`（彝语）或 `zh`（普通话）

## schedules/endpoints.toml (src/endpoint/)
endpoint-literal-secret = `{ $key }` 里直接写了密钥；这个文件里从不写密钥
endpoint-name-secret = 请改为指明密钥在哪里：`secret_env = "VAR"` 或 `secret_file = "/项目外的/路径"`（webhook），`key_file = "/路径"`（EBD 签名）
endpoint-url-scheme = 地址 `{ $url }` 必须是 http 或 https
endpoint-url-password = 地址里有密码；这个文件里从不写密钥
endpoint-url-query = 地址的查询参数里有凭据；这个文件里从不写密钥
endpoint-use-secret = 请用 `secret_env` 或 `secret_file`
endpoint-url-invalid = 地址 `{ $url }` 无效：{ $reason }
endpoint-webhook-only = `{ $key }` 只用于 webhook；EBD 终端用 `signer` 签名
endpoint-ebd-needs-ebrid = `ebd` 终端需要 `ebrid`，即平台的资源编码
endpoint-ebrid-example = 23 位数字，例如 `45134310000000314010101`
endpoint-signer-needs-key = 签名方式 `key-file` 需要 `key_file`，即项目外的路径
endpoint-signer-unknown = 未知的签名方式 `{ $signer }`
endpoint-signer-expected = 应为 `none` 或 `key-file`
endpoint-key-without-signer = 设置了 `key_file`，但 `signer` 不是 `key-file`
endpoint-ebd-only = `{ $key }` 只用于 `ebd` 终端
endpoint-secret-env-name = `secret_env` 应为环境变量名，而不是 `{ $name }`
endpoint-secret-env-letters = 大写字母、数字和 `_`；密钥本身从不写在这里
endpoint-secret-both = `secret_env` 和 `secret_file` 只能写一个
endpoint-webhook-needs-secret = `webhook` 终端需要 `secret_env` 或 `secret_file` 来签名
endpoint-secret-example = 例如 `secret_env = "SHENGBO_WEBHOOK_SECRET"`
endpoint-path-relative = `{ $path }` 必须是项目外的绝对路径
endpoint-secrets-outside = 密钥和私钥放在仓库之外，例如 `/etc/shengbo/`
endpoint-path-inside = `{ $path }` 在项目里面；密钥和私钥不能放在项目里
endpoint-move-outside = 请移到仓库之外，例如 `/etc/shengbo/`
ebrid-length = 资源编码 `{ $code }` 必须是 23 位数字（2017 版为 18 位）
ebrid-level = 资源编码 `{ $code }` 必须以级别 1–6 开头
endpoint-unreadable = 无法读取终端登记表：{ $reason }
endpoint-id-twice = 终端 id `{ $id }` 用了两次
endpoint-secs-range = `{ $key }` 必须大于 0 且不超过 { $max }，而不是 `{ $value }`
endpoint-lease-min = `lease_s` 至少为 { $min } 秒（租约每过三分之一时长续一次），而不是 `{ $value }`
endpoint-count-range = `{ $key }` 必须在 1 到 { $max } 之间，而不是 `{ $value }`
endpoint-id-invalid = 终端 id `{ $id }` 只能用字母、数字、`-` 或 `_`
endpoint-kind-expected = 应为 `ebd` 或 `webhook`
endpoint-kind-unknown = 未知的终端类型 `{ $kind }`
endpoint-serves-nothing = 终端 `{ $id }` 不服务任何乡镇
endpoint-add-targets = 请加上 `counties = ["昭觉县"]` 或 `townships = ["513431100"]`
endpoint-unserved = { $count } 个乡镇没有启用的终端（{ $list }）；它们的广播无法推送

## 同一喇叭上播出时间重叠 (src/check/cross.rs)
check-overlap = 活动 `{ $loser }` 将在 { $time } 于 { $township } 开始，而 `{ $winner }` 还在播出（{ $from }–{ $until }）；今后 { $days } 天内有 { $slots } 次冲突，涉及 { $townships } 个乡镇，每次只播其中一个
check-overlap-equal = 优先级相同（{ $priority }）：先开始的播完，另一个不播出
check-overlap-help = { $why }；{ $fix }
check-overlap-fix-later = 要两个都播出，请把 `{ $loser }` 的时段改到 { $time } 或更晚
check-overlap-fix-earlier = 要两个都播出，请把 `{ $loser }` 的时段提前，在 `{ $winner }` 开始前播完，或把 `{ $winner }` 推后
check-overlap-self = 活动 `{ $campaign }` 将在 { $time } 于 { $township } 再次开始，而它 { $from }–{ $until } 的那次广播还在播出（今后 { $days } 天内 { $slots } 次）；后一次不播出
check-overlap-self-fix = 它的节目最长约 { $minutes } 分钟：请把时段间隔至少拉开这么久，或每个时段少播几条消息

## render 和 play (src/cli/render.rs, src/cli/render/township.rs)
render-say-what = 请说明要生成什么：`--message ID`，或 `--township 乡镇`（它的下一次广播，或 `--at 时间` 那一次）
render-at-invalid = `--at { $at }` 不是时间：请写 `2026-12-01 08:00`（北京时间）或 RFC 3339，例如 `2026-12-01T08:00:00+08:00`
render-check-errors = 警告：`shengbo check` 发现 { $errors } 个错误；只用没有错误的活动和消息生成
render-unknown-township = { $reason }，{ $hint }
render-broadcast = 广播 { $broadcast }
render-next = 没有 `--at`：从现在（{ $now }）起的下一次广播是 { $broadcast }
render-next-after = { $at } 没有广播开始；生成下一次：{ $broadcast }
render-describe = { $name } `{ $code }`，{ $start }（{ $tz }），活动 `{ $campaign }`，{ $clips } 段音频，{ $seconds } 秒
render-nothing = 乡镇 `{ $code }` 在 { $at } 及之后 { $days } 天内没有广播
render-nearest-before = ；之前最近的一次是 { $broadcast }
render-none-before = ；之前 { $days } 天内也没有
render-skipped-there = ；那里跳过的：{ $reasons }
check-stand-ins = { $count } 段音频是临时替代录音，还要由工作人员录制：{ $files }
check-stand-ins-notes = 按 `message.toml` 的说明：{ $notes }

## 覆盖情况页面 (src/server/page.rs, src/server/page/)
page-title = 声波 覆盖情况
page-heading = 声波 · 反诈宣传覆盖情况
page-totals = 总计
page-period = 统计期间（北京时间）{ $from } 至 { $to }，共 { $runs } 次播发。
page-period-latest = 未指定期间：显示截至最近一次播发（{ $latest }）当天的 7 天。
page-period-no-runs = 未指定期间：账本中还没有任何播发记录。
page-empty = 本期间没有播发记录，所以没有覆盖数字可看。
page-empty-hint = 在地址后加上 ?from=2026-11-01&to=2026-12-01 查看其他期间；运行 shengbo run 或 shengbo demo 后这里会有记录。
page-scope = 范围
page-prefecture = 凉山彝族自治州（总人口 { $people }）
page-denominators = 分母：覆盖率(目标人口) = 期间内目标乡镇人口之和；覆盖率(辖区人口) = 全州人口。覆盖人口 = 每个乡镇在其最好一次播发中（所有节目段均已确认）的人口 × 平台上报的覆盖率；无覆盖报告的按全部人口计入，并单列为“无覆盖报告人口”。其中 { $estimated } 个目标乡镇的人口为估算值。
page-col-townships = 乡镇(覆盖/目标)
page-col-targeted = 目标人口
page-col-reached = 覆盖人口
page-col-played = 播出人口
page-col-unreported = 无覆盖报告人口
page-col-pct-targeted = 覆盖率(目标人口)
page-col-pct-played = 播出率(目标人口)
page-col-pct-area = 覆盖率(辖区人口)
page-col-failures = 失败
page-col-name = 名称
page-by-county = 按县市
page-by-township = 按乡镇
page-by-village = 按村（社区）
page-row-summary = { $code } { $name } — 覆盖 { $pct }
page-chart-heading = 各县市覆盖人口
page-chart-caption = 每条横条的全长是该县市的总人口，深色部分是本期覆盖的人口；按覆盖比例从高到低排列。
page-chart-axis-x = 人口（人）
page-chart-axis-y = 县市
page-chart-legend-population = 县市总人口
page-chart-legend-reached = 本期覆盖人口
page-chart-value = { $reached } / { $people }（{ $pct }）
page-chart-not-targeted = 未列入目标
page-unreached = 未覆盖的乡镇
page-unreached-none = 所有目标乡镇都已覆盖。
page-unreached-people = 目标人口
page-unreached-reason = 原因
page-unreached-pending = 未收到送达或播出确认（仍在等待，或平台未回报）
page-failures = 失败与过期
page-none = 无
page-col-time = 时间
page-col-campaign = 活动
page-col-township = 乡镇
page-col-county = 县市
page-col-lang = 语言
page-col-endpoint = 接收端
page-col-state = 状态
page-col-reason = 原因
page-endpoints = 接收端状态
page-no-records = 暂无记录
page-col-circuit = 熔断
page-col-consecutive = 连续失败
page-col-last-seen = 最近响应
page-lang-ii = 彝语
page-lang-zh = 普通话
page-state-pending = 等待中
page-state-sent = 已发送
page-state-delivered = 已送达
page-state-rejected = 被拒收
page-state-expired = 已过期
page-state-played = 已播出
page-state-failed = 播出失败
page-state-cancelled = 已取消
page-circuit-closed = 正常
page-circuit-open = 熔断
page-circuit-half_open = 半开（试探中）

## plan (src/cli/plan.rs, src/cli/plan/table.rs, src/plan/mod.rs)
cli-error = 错误：{ $message }
cli-help = {"  "}= 提示：{ $help }
plan-from-too-late = `--from` 太晚了
plan-to-before-from = `--to`（{ $to }）必须晚于 `--from`（{ $from }）
plan-cannot-plan = 无法为 `{ $root }` 排期
plan-check-errors = 警告：`shengbo check` 发现 { $errors } 个错误；只为有效的活动和消息排期
plan-col-start = 开始
plan-col-end = 结束
plan-col-county = 县
plan-col-township = 乡镇
plan-col-code = 代码
plan-col-campaign = 活动
plan-col-programme = 节目
plan-col-why = 原因
plan-col-day = 日期
plan-col-name = 名称
plan-col-broadcasts = 播出次数
plan-col-townships = 乡镇数
plan-villages = { $township }（{ $villages } 村）
plan-footer = { $broadcasts } 次播出，涉及 { $townships } 个乡镇
plan-footer-skipped = ；跳过：{ $list }
plan-footer-skip = { $count } 次{ $reason }
plan-footer-lost = ；{ $count } 次因优先级较低未播出
plan-summary-total = 共 { $broadcasts } 次播出
skip-quiet-hours = 开始时间在乡镇的静默时段内
skip-outside-valid-dates = 不在活动的有效日期内
skip-message-outside-valid-dates = 消息当天无效
skip-unknown-message = 未知的消息
skip-not-airable = 消息无法播出
skip-no-airable-clip = 没有可播出的 `{ $lang }` 音频
skip-pair-rejected = 双语音频未通过检测
skip-nothing-to-air = 这一次没有可播出的消息
skip-unknown-township = 乡镇不在名录中
skip-named-day = 这一天不播出：{ $day }
skip-no-market-days = 不知道该乡镇的赶场日
list-separator = {"，"}

## run 和 demo (src/cli/run.rs, src/cli/run/setup.rs, src/cli/demo.rs)
run-needs-once = `shengbo run` 需要 `--once`；常驻的调度服务是 `shengbo serve`
run-no-campaign = `schedules/` 里没有有效的活动
run-no-such-campaign = `schedules/` 里没有有效的活动 `{ $id }`
run-no-slot-after = `{ $at }` 之后一周内没有播出时段
run-no-slot-week = 今后一周内没有播出时段
run-not-a-time = `{ $at }` 不是时间：请用 RFC 3339 或 `YYYY-MM-DD HH:MM`（北京时间）
run-not-beijing-time = `{ $at }` 不是有效的北京时间
run-nothing-airs = { $campaign } 在 { $at }：没有可播出的内容（静默时段、有效日期或没有可播出的消息）
pair-half = { $lang ->
        [ii] 彝语
       *[zh] 普通话
    }半段
run-pair-cancelled = 已取消的配对：`{ $endpoint }`（乡镇 { $townships }）的{ $half }已取消 — { $reason }
run-pair-cancel-pending = 取消待发：`{ $endpoint }`（乡镇 { $townships }）的{ $half } — { $reason }；取消指令仍在发送
run-pair-aired-alone = 配对只播出了一半：`{ $endpoint }`（乡镇 { $townships }）的{ $half }单独播出 — { $reason }；{ $detail }
run-pair-may-air = 配对可能只播出一半：`{ $endpoint }`（乡镇 { $townships }）的{ $half }没能取消 — { $reason }；{ $detail }
run-unsettled = { $count } 次投递还没有最终状态（台账会保留，交给 `serve`）
run-heading = 运行 { $run } — { $campaign }，{ $at }（北京时间）
run-col-township = 乡镇
run-col-name = 名称
run-col-reason = 原因
run-unserved = 没有终端服务这个乡镇
run-deliveries = 投递：{ $states }
run-reach = 覆盖：目标 { $targeted } 人中覆盖 { $reached } 人（{ $share }），目标 { $townships_targeted } 个乡镇中覆盖 { $townships_reached } 个；在 { $townships_played } 个乡镇播出，{ $played } 人（{ $played_share }）
run-unreported = 没有覆盖报告确认：{ $townships } 个乡镇，{ $people } 人（按全部人口计）
run-denominator = 分母：{ $runs ->
        [1] 本次运行
       *[other] 这些运行
    }所针对的 { $townships } 个乡镇的人口；每个覆盖到的乡镇按其人口 × 平台报告的覆盖率计
run-loading = 加载 `{ $root }` 里的项目
run-registry-errors = 终端名录有 { $errors } 个错误
run-settings-errors = `schedules/settings.toml` 有 { $errors } 个错误
run-creating = 创建 `{ $path }`
run-http-client = 建立 HTTP 客户端
demo-heading = shengbo 演示：在 { $url } 模拟 { $platforms } 个县级平台，播放时钟 ×{ $speed }，从 { $from }（北京时间）起 { $slots } 个播出时段
demo-already = {"  "}（台账里已有以前的运行：不会重复发送）
demo-simulator = 模拟器：{ $requests } 个请求，接受 { $messages } 条消息，注入 { $outages } 次故障
demo-wire = 报文时间：{ $packages } 个数据包，与真实时间最多相差 { $skew } 秒，{ $mismatches } 个编号的日期不是当天
demo-done = 用时 { $seconds } 秒
demo-slot = { $at } { $campaign }：{ $deliveries } 次投递（{ $states }）；覆盖 { $reached }/{ $targeted } 人（{ $share }），{ $townships_reached }/{ $townships_targeted } 个乡镇
demo-per-county = 按县统计，共 { $slots } 个播出时段（每个乡镇只算一次，取其最好的确认结果）：
demo-col-county = 县
demo-col-name = 名称
demo-col-townships = 乡镇
demo-col-people = 覆盖人数 / 目标人数
demo-ledger-is = 台账在 `{ $path }`；可以继续查看：
demo-next-coverage = {"      "}这些时段在各乡镇的覆盖，来自这个台账
demo-next-open = {"      "}然后打开 { $url }
demo-no-token = {"      "}（没有协调员令牌：{ $error }）
demo-next-sim = {"      "}在另一个进程里手动向模拟器推送一个时段

## catalog (src/cli/catalog.rs)
catalog-col-message = 消息
catalog-col-lang = 语言
catalog-col-duration = 时长
catalog-col-format = 格式
catalog-col-gain = 增益 dB
catalog-col-limiter = 限幅 dB
catalog-col-lufs-after = 处理后 LUFS
catalog-col-dbtp-after = 处理后 dBTP
catalog-col-status = 状态
catalog-col-reason = 原因
catalog-status-ok = 正常
catalog-status-warning = 提醒
catalog-status-rejected = 不通过
catalog-rejected = { $clips } 个音频中有 { $rejected } 个未通过检测：不会排入播出
catalog-cannot-read = 无法读取 `{ $path }`
catalog-bad-gate = `{ $path }` 里的检测设置无效
catalog-limiter-on = “限幅”是真峰值限幅器从被增益推过上限的峰值上最多削去的量
catalog-limiter-off = 限幅器已关闭（`limiter = false`）：增益受上限约束
catalog-policy = LUFS 和 dBTP 按播出时测量（混为单声道）；“增益”把每个音频调到 { $target } LUFS，真峰值不超过 { $ceiling } dBTP，两种语言相差不超过 { $tolerance } LU（`^` 表示受上限约束，`=` 表示为与另一种语言一致而调低）；{ $peaks }；“处理后”是音频处理后的测量值；不通过的音频不加增益

## calendar (src/cli/calendar.rs)
calendar-year-range = `--year` { $year } 超出范围，应在 { $first }–{ $last } 之间
calendar-township = `--township`：{ $error }
calendar-col-name = 节日
calendar-col-first = 开始
calendar-col-last = 结束
calendar-col-days = 天数
calendar-col-basis = 依据
calendar-col-source = 规则或通知
calendar-basis-rule = 规则
calendar-basis-notice = 通知
calendar-named-days = { $year } 年共 { $count } 个节日
calendar-no-markets = { $name } `{ $code }`：不知道赶场日（请在 `{ $file }` 里加一个 `[[market]]`）
calendar-county-default = ，县默认
calendar-market-days = { $name } `{ $code }` 赶场 { $rule }{ $from }：{ $year } 年共 { $count } 个赶场日
calendar-month = { $month }月

## coverage (src/cli/coverage.rs)
coverage-no-ledger = `{ $path }` 没有台账：这个数据目录还没有运行过任何内容（请运行 `shengbo run` 或 `shengbo serve`，或用 `--data-dir` 指定）
coverage-heading = 覆盖 { $from } .. { $to }（{ $runs } 次运行{ $campaign }）
coverage-campaign = ，活动 `{ $campaign }`
coverage-col-area = 地区
coverage-col-townships = 乡镇
coverage-col-villages = 村
coverage-col-targeted = 目标人数
coverage-col-reached = 覆盖人数
coverage-col-played = 播出人数
coverage-col-no-report = 无报告
coverage-col-pct-targeted = %目标
coverage-col-pct-played = %目标播出
coverage-col-pct-area = %地区
coverage-col-failures = 失败
coverage-total = 凉山州 合计
coverage-legend = %目标：占目标人口（{ $targeted }）的比例；%地区：占各地区人口的比例（合计：全州 { $area }）；覆盖人数：人口 × 平台报告的覆盖率；无报告：没有覆盖报告确认的覆盖人数（按全部人口计）；{ $townships } 个目标乡镇和 { $villages } 个村的人口为估计值
coverage-failed = 失败：运行 { $run } { $at } { $places } { $what }：{ $reason }
coverage-cancelled = 取消的配对：运行 { $run } { $at } { $places } `{ $endpoint }` 的{ $half } — { $reason }
coverage-no-reason = 没有记录原因
demo-foreign-endpoint = `shengbo demo` 只向自己的本机模拟器推送，但 `schedules/endpoints.toml` 里的终端 `{ $endpoint }` 指向 `{ $url }`；演示请用 `{"{"}sim{"}"}/…` 形式的地址，向真实平台推送请用 `shengbo run --once`

## token, ledger, play, render, serve, sim (src/cli/token.rs, ledger.rs, play.rs, render.rs, serve.rs, sim.rs)
token-say-scope = 请给出 `--county 代码` 或 `--coordinator`
token-save-failed = 无法保存令牌
token-read-failed = 无法读取令牌
token-revoke-failed = 无法吊销令牌
token-created = 已创建令牌 `{ $name }`（{ $scope }）；它只在此刻显示一次：
token-none = `{ $path }` 中没有令牌
token-revoked = 已吊销令牌 `{ $name }`
token-scope-coordinator = 协调员
token-scope-station = 县 { $county } 的广播站
ledger-migrate-needs-sqlite = `ledger migrate` 复制的是 SQLite 台账：请传入 `--ledger sqlite:路径`
ledger-none-at = `{ $path }` 没有台账
ledger-to-not-postgres = --to `{ $to }`：应为 `postgres://` 地址
ledger-col-table = 表
ledger-col-rows = 行数
ledger-col-sha256 = sha256
ledger-copied = 已将 `{ $from }` 复制到 postgres://{ $target }：{ $tables } 个表校验无误
play-cannot = 无法播放：{ $reason }
play-render-instead = 请改为渲染到文件：`shengbo render ... -o programme.wav`
render-say-where = 请说明写到哪里：`-o programme.wav`、`--adjusted 目录`，或两者都给
render-writing = 写入 `{ $path }`
render-wrote = 已写入 { $path }：{ $rate } Hz，{ $channels } 声道，16 位 PCM，{ $frames } 帧
render-cannot-read = 无法读取 `{ $path }`：{ $reason }
render-adjusted = 已调整 { $from } -> { $to }（{ $gain } dB{ $limiter }，{ $bytes } 字节，sha256 { $sha }{ $cached }）
render-adjusted-limiter = ，限幅 -{ $db } dB
render-adjusted-cached = ，已缓存
render-pair-rejected = 警告：消息 `{ $message }` 按现状不会播出：{ $reasons }
serve-cannot-listen = 无法监听 `{ $addr }`
serve-listening = 正在监听 { $url }
serve-stopped = 服务已停止
sim-private-key = 私钥：{ $path }
sim-public-key = 公钥：{ $path }
sim-profile = 模拟器配置
sim-reading = 读取 `{ $path }`
sim-in-file = 在 `{ $path }` 中
sim-binding = 绑定 `{ $addr }`
sim-listening = 模拟器正在监听 { $url }（可向任意路径 POST 数据包；按 Ctrl-C 停止）
sim-serving = 服务运行中出错
render-clipped = 警告：{ $samples } 个采样被削波（显式增益）
render-catalog-unreadable = 无法读取 `{ $root }` 的消息目录
render-cannot-load = 无法加载 `{ $root }`
render-clip-rejected = `{ $file }` 未通过音频检查，永远不会播出：{ $reasons }
render-no-message = `{ $dir }` 中没有消息 `{ $id }`
render-no-message-suggest = `{ $dir }` 中没有消息 `{ $id }`，是不是 `{ $name }`？
render-no-clip = 消息 `{ $id }` 没有 `{ $lang }`（{ $name }）录音：应为 `{ $dir }/{ $lang }.<wav|flac|mp3|ogg|m4a|aac>`
token-file-io = 令牌文件 `{ $path }`：{ $reason }
token-file-invalid = 令牌文件 `{ $path }` 无效：{ $reason }
token-exists = 名为 `{ $name }` 的令牌已存在；请先吊销它，或换一个名称
token-unknown = 没有名为 `{ $name }` 的令牌
token-bad-name = 令牌名称 `{ $name }` { $reason }
token-name-empty = 为空
token-name-long = 超过 { $max } 个字符
token-name-control = 含有控制字符（换行、制表符等）
token-name-space = 开头或结尾有空格
play-not-built = 此版本不支持声音设备（请用 `--features audio-device` 重新构建）
play-no-device = 没有可用的声音设备：{ $reason }
play-gap = （间隔）
play-repeat = （第 { $repeat } 遍）
timeline-col-start = 开始
timeline-col-length = 时长
timeline-col-lang = 语言
timeline-col-gain = 增益
timeline-col-expected = 预期响度
timeline-col-message = 消息
timeline-col-file = 文件
timeline-capped = （受真峰值上限限制，差 { $lu } LU）
timeline-matched = （为与配对录音一致而调低，差 { $lu } LU）
timeline-limiter = （限幅器将峰值最多压低 { $db } dB）
timeline-total = 合计 { $total }

## HTTP error messages (src/server/): the `message` of an error body; `error` is a stable code
http-lookup = { $reason }；{ $help }
http-internal = 内部错误
http-level-township = 乡镇
http-level-village = 村
http-level-county = 县
http-malformed-code = { $what }代码 `{ $code }` 格式不对：应为 { $digits } 位数字
http-no-font = 没有字体 `{ $file }`
http-malformed-audio = 音频名称 `{ $file }` 格式不对：应为 `<sha256>.<扩展名>`（64 位十六进制数字）
http-signed-link-half = 签名链接需要同时带 `exp` 和 `sig`
http-no-signed-links = 本服务器不接受签名链接
http-no-recording = 消息目录中没有录音 `{ $file }`
http-recording-elsewhere = 录音 `{ $file }` 不在县 `{ $county }` 的任何播放列表中
http-no-ledger = 本服务器没有台账，无法提供覆盖数据
http-unknown-format = 未知的格式 `{ $format }`，应为 `json` 或 `csv`
http-token-other-county = 令牌 `{ $name }` 只能访问县 `{ $own }`，不能访问 `{ $county }`
http-token-station = 令牌 `{ $name }` 是广播站令牌；覆盖数据需要协调员令牌
http-token-required = 需要令牌：`Authorization: Bearer <令牌>` 或 `?token=<令牌>`
http-token-unknown = 令牌未知或已吊销
http-bad-at = `at` 应为 RFC 3339 时间，例如 `2026-11-27T20:00:00+08:00`，而不是 `{ $at }`：{ $reason }
http-bad-date = `date` 应写成 `2026-11-27` 的形式，而不是 `{ $date }`
http-unknown-village = 未知的村 `{ $code }`
http-no-broadcast = { $area } 在 { $at } 及之后没有计划的播出
http-area-township = 乡镇 `{ $code }`（{ $name }）
http-area-village = 村 `{ $code }`（{ $name }，{ $township }）
http-unknown-playlist = 未知的播放列表 `{ $file }`；应为以下之一：{ $known }
http-no-route = 没有路径 `{ $path }`
http-no-state-reports = 本服务器不接收状态报告（只读镜像）
signed-key-io = 音频链接密钥 `{ $path }`：{ $reason }
signed-key-malformed = 音频链接密钥 `{ $path }` 不是 64 位十六进制数字
signed-bad-exp = `exp` 应为不超过 30 天后的 Unix 秒数时间，而不是 `{ $exp }`
signed-expired = 此链接已于 { $at } 过期
signed-bad-sig = `sig` 与这段录音和有效期不符
http-multipart = multipart 请求体：{ $reason }
http-no-tar-part = multipart 请求体中没有以 `.tar` 结尾的文件部分
unknown-locale = 未知的界面语言 `{ $lang }`，应为 `zh` 或 `en`
cli-runtime = 启动异步运行时

## serve's start-up errors (src/service/mod.rs)
service-listen = 无法监听 `{ $addr }`：{ $reason }
service-schedules = 播出计划有 { $errors } 个错误；没有安排任何播出
service-registry = 终端登记表有 { $errors } 个错误
service-settings = `schedules/settings.toml` 有 { $errors } 个错误
service-tokens = 令牌：{ $reason }
service-client = 创建 HTTP 客户端：{ $reason }
service-task = 启动任务失败：{ $reason }
service-what-listen-address = 读取监听地址
service-what-http = HTTP 服务器
service-what-create = 创建 `{ $path }`
