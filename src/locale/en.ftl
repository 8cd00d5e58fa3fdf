# English messages of shengbo. Every id here has its twin in zh-CN.ftl with the same
# arguments (src/locale/tests.rs checks). Lowercase, no final period, user input in backticks.

## diagnostics (src/diag.rs)
diag-error = error
diag-warning = warning
diag-help = help
did-you-mean = did you mean `{ $name }`?
expected-one-of = expected one of { $list }
unknown-key = unknown key `{ $key }`

## check (src/check/)
check-summary = { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }, { $warnings ->
        [one] 1 warning
       *[other] { $warnings } warnings
    } in { $files ->
        [one] 1 file
       *[other] { $files } files
    }; { $campaigns ->
        [one] 1 campaign
       *[other] { $campaigns } campaigns
    }, { $messages ->
        [one] 1 message
       *[other] { $messages } messages
    }, { $townships ->
        [one] 1 township
       *[other] { $townships } townships
    }
check-no-schedules = no `schedules` folder in `{ $root }`: campaigns go in `schedules/*.toml`
check-cannot-check = cannot check `{ $root }`
check-population-note = population: { $name } `{ $code }` { $people } people (`{ $source }`), estimate was { $was } — { $file }
check-unused = {" "}(not used by any campaign)
check-pair-verdict = message `{ $id }`: { $reasons }{ $unused }
check-clip-warning = clip passes the gate with remarks: { $reasons }{ $unused }
check-clip-rejected = clip rejected by the audio gate: { $reasons }{ $unused }
check-unknown-message = unknown message `{ $id }`
check-catalog-holds = the catalog holds { $list }
check-message-cannot-air = message `{ $id }` cannot air in campaign `{ $campaign }`: { $reason }
check-message-never-valid = message `{ $id }` is never valid on a day campaign `{ $campaign }` runs
check-message-valid-range = the message is valid from { $from } until { $until }
check-any-day = any day
check-open-ended = open-ended
check-conflict = campaigns `{ $loser }` and `{ $winner }` want the same township in the same minute ({ $slots } slots in { $townships ->
        [one] 1 township
       *[other] { $townships } townships
    } over the next { $days } days, first at { $time } in { $township }); `{ $winner }` airs
check-conflict-priority = `{ $winner }` has priority { $high } over { $low }
check-conflict-equal = equal priority { $priority }: the smaller campaign id wins

## files check will not read (src/check/files.rs)
files-empty-schedules = `schedules/` holds no campaign file (`*.toml`): nothing will air
files-wrong-extension = `{ $file }` is not read: campaign files end in `.toml`
files-rename-to = rename it to `{ $name }`
files-upper-extension = `{ $file }` is not read: the extension must be lower-case `.toml`
files-subfolder = `{ $file }` is a folder and is not read: campaign files sit directly in `schedules/`
files-move-up = move its `.toml` files up into `schedules/`
files-backup = `{ $file }` looks like an editor backup and is not read
files-delete-backup = delete it, or ignore this if it is yours
files-settings-misspelt = `{ $file }` is read as a campaign, but looks like the settings file
files-settings-name = the settings file is `settings.toml`

## text of a file (src/check/text.rs)
text-not-utf8 = `{ $file }` is not UTF-8 text (it looks like { $encoding })
text-save-utf8 = save it as UTF-8: in Notepad choose “Save as”, Encoding “UTF-8”; in WPS or Excel choose “UTF-8” when saving
text-fullwidth = full-width `{ $char }` ({ $name }) typed by a Chinese input method
text-type-halfwidth = type the half-width `{ $ascii }` instead (switch the input method to English punctuation)
fw-colon = full-width colon
fw-comma = full-width comma
fw-equals = full-width equals sign
fw-quote = full-width quotation mark
fw-bracket = full-width bracket
fw-space = full-width space
fw-period = full-width full stop
text-duplicate-key = key `{ $key }` is given twice: at line { $first } and at line { $second }
text-keep-one = keep one of them
text-unclosed = `{ $open }` opened here is never closed
text-close-it = add `{ $close }` at the end of this line
text-slots-single = `[slots]` names a single table, but a campaign has a list of slots
text-slots-double = write `[[slots]]` (two brackets) before each slot

## time zones (src/check/tz.rs)
tz-unknown = unknown time zone `{ $zone }`
tz-use-shanghai = Beijing time is `Asia/Shanghai`
tz-far = time zone `{ $zone }` is { $offset } from UTC, far from Beijing time (UTC+8)
tz-etc-sign = `Etc/GMT+8` means UTC−8 (the sign is reversed); Beijing time is `Asia/Shanghai`

## directory look-ups (src/directory/lookup.rs)
lookup-unknown-county = unknown county `{ $query }`
lookup-unknown-township = unknown township `{ $query }`
lookup-ambiguous = `{ $query }` names { $count } townships ({ $list }); use a code or `county/township`
lookup-county-code-in-townships = `{ $query }` is the code of county { $name }, not of a township
lookup-use-counties = to target the whole county write it under `counties = ["{ $query }"]`
lookup-township-code-in-counties = `{ $query }` is the code of township { $name } ({ $county }), not of a county
lookup-use-townships = write it under `townships = ["{ $query }"]`
lookup-village = `{ $query }` is a village of { $township } `{ $code }` in { $county }, not a township
lookup-use-township = write its township `{ $code }` ({ $township }), or, to reach this village alone, `villages = ["{ $query }"]` under `[targets]`
lookup-unknown-village = unknown village `{ $query }`
lookup-ambiguous-village = `{ $query }` names { $count } villages ({ $list }); use a 12-digit code or `township/village`
lookup-township-in-villages = `{ $query }` is the township { $name } `{ $code }` ({ $county }), not a village
lookup-expected-village = expected a 12-digit village code, a village name or `township/village` such as `竹核镇/尼日村`
lookup-suggest-village = did you mean { $name } `{ $code }` ({ $county } { $township })?
targets-village-in-whole-township = the township { $township } of { $village } is targeted whole; this adds no village
lookup-suggest = did you mean { $name } `{ $code }` ({ $county })?
lookup-suggest-county = did you mean { $name } `{ $code }`?
lookup-expected-county = expected a 6-digit county code or a county name such as `昭觉县`
lookup-expected-township = expected a 9-digit township code, a township name or `county/township` such as `昭觉县/竹核镇`

## shengbo directory (src/cli/directory.rs)
dir-col-level = level
dir-col-code = code
dir-col-name = name
dir-col-county = county
dir-col-township = township
dir-col-population = population
dir-col-endpoint = endpoint
dir-col-campaigns = campaigns
dir-level-county = county
dir-level-township = township
dir-level-village = village
dir-estimated = (est.)
dir-none = —
dir-no-match = nothing in the directory matches `{ $query }`
dir-count = { $counties ->
        [one] 1 county
       *[other] { $counties } counties
    }, { $townships ->
        [one] 1 township
       *[other] { $townships } townships
    }, { $villages ->
        [one] 1 village
       *[other] { $villages } villages
    }; population marked (est.) is an estimate

## settings (src/settings.rs)
locale-unknown = unknown interface language `{ $value }`, expected `zh` or `en`

## campaign targets and quiet hours (src/schedule/targets.rs)
quiet-invalid = invalid quiet hours `{ $text }`, expected `HH:MM-HH:MM` such as `22:00-06:30`
quiet-same-time = quiet hours `{ $text }` start and end at the same time, expected `HH:MM-HH:MM` such as `22:00-06:30`
quiet-none = none
quiet-override-untargeted = quiet hours for `{ $township }` have no effect: the campaign does not target it
quiet-override-twice = quiet hours for township { $code } are given twice
targets-missing = missing `[targets]`, expected `all = true`, `counties` or `townships`
targets-adds-nothing = `{ $key }` adds nothing with `all = true`
targets-excluded-untargeted = `{ $text }` is excluded but was not targeted anyway
targets-none = campaign targets no townships, expected `all = true`, `counties` or `townships` leaving at least one township after exclusions
slot-always-quiet = slot `{ $cron }` always falls inside quiet hours ({ $quiet }), so it would never air
slot-move = move the slot or change `quiet_hours`
slot-partly-quiet = slot `{ $cron }` fires at { $times }{ $more ->
        [0] {""}
       *[other] {" "}and { $more } more
    } inside quiet hours ({ $quiet }); those broadcasts are skipped

## dates (src/check/forms.rs, src/schedule/validate.rs)
date-invalid = invalid `{ $key }` `{ $text }`, expected a date such as `2026-12-01`
date-write-as = write `{ $date }`

## crontab lines (src/check/forms.rs, src/schedule/programme.rs)
cron-invalid = invalid cron `{ $cron }`: { $reason }
cron-write-as = write `{ $line }`
