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
