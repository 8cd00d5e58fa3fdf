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

## campaign keys (src/schedule/validate.rs, src/schedule/programme.rs)
campaign-name-expected = a campaign name such as `全州防诈骗宣传`
campaign-id-from-file = file name `{ $stem }` is not a valid campaign id, expected an `id` key such as `id = "prefecture-wide"` (lowercase letters, digits, `-`, `_`)
campaign-id-invalid = invalid campaign id `{ $id }`, expected lowercase letters, digits, `-` or `_`
campaign-ended = campaign ended on { $until } (today is { $today } in { $tz }); it will not air again
key-empty = `{ $key }` is empty, expected { $expected }
key-missing = missing key `{ $key }`, expected { $expected }
date-not-a-date = invalid `{ $key }` `{ $text }`, expected a date such as `2026-12-01` (no time of day)
valid-until-before-from = `valid_until` { $until } is before `valid_from` { $from }, expected a date on or after it
rotation-round-robin-days = round-robin turns count every slot firing, also on days this campaign does not run: a township with market days every other day may hear the same message each time
rotation-use-all = use `rotation = "all"` to air every message on each day it runs
rotation-unknown = unknown rotation `{ $rotation }`, expected `all` or `round-robin`
messages-missing = missing key `messages`, expected a list of message ids such as `messages = ["police-impersonation"]`
messages-empty = `messages` is empty, expected at least one message id
message-id-invalid = invalid message id `{ $id }`, expected the name of a folder in `audio/` (lowercase letters, digits, `-`, `_`)
message-listed-twice = message `{ $id }` is listed twice
order-twice = language `{ $code }` is listed twice in `order`
order-unknown = unknown language `{ $code }` in `order`, expected `ii` (Nuosu Yi) or `zh` (Mandarin)
order-empty = `order` is empty, expected `["ii", "zh"]`
order-single = `order` names one language, expected both (`["ii", "zh"]`) unless `allow_single_language = true`
gap-out-of-range = `gap_s` { $value } out of range, expected seconds from 0 to { $max }
whole-out-of-range = `{ $key }` { $value } out of range, expected a whole number from { $lo } to { $hi }
slots-missing = missing `[[slots]]`, expected at least one slot such as `[[slots]]` with `cron = "0 8 * * *"`
slot-cron-missing = missing key `cron` in `[[slots]]`, expected a crontab line such as `cron = "0 8 * * *"`
slot-twice = slot `{ $cron }` is listed twice; it fires once

## settings values (src/settings/checks.rs)
settings-out-of-range = `{ $key }` in `[{ $section }]` is `{ $value }`: expected { $expected }
settings-use-default = leave it out for the default, `{ $default }`
settings-gate-durations = `min_duration_s` in `[gate]` ({ $min }) must be below `max_duration_s` ({ $max })
settings-ebd = `[ebd]`: { $reason }
settings-ebd-defaults = every `[ebd]` key keeps its default until this is fixed
settings-ebd-extra-left-out = this code is left out; each one is a { $digits }-digit resource code of ours, named once
expect-positive-seconds = a positive number of seconds
expect-seconds = zero or more seconds
expect-silence-level = a level below 0 dBFS, such as `-45`
expect-share = a share between 0 and 1
expect-peak-level = a level at or below 0 dBFS
expect-min-lufs = a loudness between -70 and 0 LUFS, such as `-45`
expect-ratio = a ratio of 1 or more
expect-at-least-one = at least 1
expect-target-lufs = a loudness between -70 and 0 LUFS, such as `-16`
expect-true-peak = a ceiling between -70 and 0 dBTP, such as `-1`
expect-lu = zero or more LU
population-township-empty = `township` must not be empty
population-people-zero = `people` must be above 0
population-source-empty = `source` must not be empty
population-name-source = say where the figure comes from, e.g. `乡政府 2024 户籍统计`
settings-unreadable = cannot read the settings: { $reason }
settings-defaults = every setting keeps its default until the file can be read
population-override = population override: { $reason }
population-twice = township `{ $code }` already has a population override
population-first-at = the first one is on line { $line }; keep one

## the message catalog and its audio gate (src/catalog/)
cannot-read = cannot read `{ $path }`: { $reason }
catalog-no-audio = no `audio` folder in `{ $root }`: recordings go in `audio/<message-id>/ii.<ext>` and `zh.<ext>`
catalog-id-not-ascii = message id `{ $id }` is not lowercase ascii
catalog-id-letters = use letters a-z, digits and `-`, e.g. `police-impersonation`
catalog-unknown-file = unknown file `{ $name }` in a message folder
catalog-folder-holds = a message folder holds `message.toml`, `ii.<ext>` and `zh.<ext>`
catalog-meta-broken = `message.toml` is missing or has errors
catalog-two-recordings = more than one `{ $lang }` recording: { $files }
catalog-no-meta = message `{ $id }` has no `message.toml`
catalog-add-meta = add `message.toml` with `title_zh`, `topic` and `[text]`
gate-undecodable = cannot be decoded: { $reason }
gate-stand-in = stand-in: { $note }
gate-empty = the clip is empty: it holds no audio
gate-too-short = the clip is too short: { $seconds } s, the minimum is { $min } s
gate-too-long = the clip is too long: { $seconds } s, the maximum is { $max } s
gate-mostly-silent = the clip is mostly silent: { $percent }% of it is below { $level } dBFS (at most { $allowed }% allowed)
gate-clipped-run = the clip is clipped: { $samples } consecutive samples at full scale
gate-clipped-peaks = the clip is clipped: { $samples } samples at or above { $level } dBFS
gate-bad-packets = { $bad ->
        [one] 1 damaged audio packet
       *[other] { $bad } damaged audio packets
    } of { $packets } skipped
gate-silent = the clip is silent: it has no measurable loudness
gate-nearly-silent = the clip is nearly silent: { $lufs } LUFS, below the minimum of { $min } LUFS
gate-same-file = both languages are the same file (identical sha256)
gate-same-audio = both languages are the same audio (the decoded sound matches)
gate-lengths-differ = the two languages differ a lot in length: `ii` { $ii } s, `zh` { $zh } s (ratio { $ratio }, more than { $max })
gate-no-ii = no Nuosu Yi (`ii`) recording
gate-no-zh = no Mandarin (`zh`) recording
meta-empty = `{ $key }` must not be empty
meta-text-missing = `[text]` has no `{ $lang }` entry ({ $name })
meta-until-before-from = `valid_until` { $until } is before `valid_from` { $from }
meta-in-table = in `[{ $table }]`: { $reason }
meta-date = expected a date such as `2026-01-31`, found `{ $text }`
lang-unknown = unknown language `{ $code }`, expected `ii` (Nuosu Yi) or `zh` (Mandarin)

## schedules/endpoints.toml (src/endpoint/)
endpoint-literal-secret = `{ $key }` holds a literal secret; secrets are never written in this file
endpoint-name-secret = name it instead: `secret_env = "VAR"` or `secret_file = "/path/outside/the/project"` (webhooks), `key_file = "/path"` (EBD signing)
endpoint-url-scheme = url `{ $url }` must be http or https
endpoint-url-password = url holds a password; secrets are never written in this file
endpoint-url-query = url query holds a credential; secrets are never written in this file
endpoint-use-secret = use `secret_env` or `secret_file`
endpoint-url-invalid = url `{ $url }` is not valid: { $reason }
endpoint-webhook-only = `{ $key }` is for webhooks; EBD endpoints sign with `signer`
endpoint-ebd-needs-ebrid = an `ebd` endpoint needs `ebrid`, the platform's resource code
endpoint-ebrid-example = 23 digits, e.g. `45134310000000314010101`
endpoint-signer-needs-key = signer `key-file` needs `key_file`, a path outside the project
endpoint-signer-unknown = unknown signer `{ $signer }`
endpoint-signer-expected = expected `none` or `key-file`
endpoint-key-without-signer = `key_file` is set but `signer` is not `key-file`
endpoint-ebd-only = `{ $key }` is for `ebd` endpoints
endpoint-secret-env-name = `secret_env` must name an environment variable, not `{ $name }`
endpoint-secret-env-letters = upper-case letters, digits and `_`; the secret itself is never written here
endpoint-secret-both = give `secret_env` or `secret_file`, not both
endpoint-webhook-needs-secret = a `webhook` endpoint needs `secret_env` or `secret_file` for its signature
endpoint-secret-example = e.g. `secret_env = "SHENGBO_WEBHOOK_SECRET"`
endpoint-path-relative = `{ $path }` must be an absolute path outside the project
endpoint-secrets-outside = keys and secrets live outside the repository, e.g. `/etc/shengbo/`
endpoint-path-inside = `{ $path }` lies inside the project; keys and secrets must not
endpoint-move-outside = move it outside the repository, e.g. `/etc/shengbo/`
ebrid-length = resource code `{ $code }` must be 23 digits (or 18 in the 2017 format)
ebrid-level = resource code `{ $code }` must start with a level 1–6
endpoint-unreadable = cannot read the endpoint registry: { $reason }
endpoint-id-twice = endpoint id `{ $id }` is used twice
endpoint-secs-range = `{ $key }` must be above 0 and at most { $max }, not `{ $value }`
endpoint-lease-min = `lease_s` must be at least { $min } (a lease is renewed every third of its time), not `{ $value }`
endpoint-count-range = `{ $key }` must be between 1 and { $max }, not `{ $value }`
endpoint-id-invalid = endpoint id `{ $id }` must be letters, digits, `-` or `_`
endpoint-kind-expected = expected `ebd` or `webhook`
endpoint-kind-unknown = unknown endpoint kind `{ $kind }`
endpoint-serves-nothing = endpoint `{ $id }` serves no township
endpoint-add-targets = add `counties = ["昭觉县"]` or `townships = ["513431100"]`
endpoint-unserved = { $count ->
        [one] 1 township has
       *[other] { $count } townships have
    } no enabled endpoint ({ $list }); their broadcasts cannot be pushed

## broadcasts overlapping on one loudspeaker (src/check/cross.rs)
check-overlap = campaign `{ $loser }` would start at { $time } in { $township } while `{ $winner }` still plays ({ $from }–{ $until }); { $slots ->
        [one] 1 broadcast
       *[other] { $slots } broadcasts
    } in { $townships ->
        [one] 1 township
       *[other] { $townships } townships
    } over the next { $days } days collide; only one of the two airs each time
check-overlap-equal = equal priority { $priority }: the one that starts first plays to its end, the other does not air
check-overlap-help = { $why }; { $fix }
check-overlap-fix-later = to air both, move the slot of `{ $loser }` to { $time } or later
check-overlap-fix-earlier = to air both, move the slot of `{ $loser }` earlier so it ends before `{ $winner }` starts, or `{ $winner }` later
check-overlap-self = campaign `{ $campaign }` would start again at { $time } in { $township } while its broadcast of { $from }–{ $until } still plays ({ $slots ->
        [one] 1 time
       *[other] { $slots } times
    } over the next { $days } days); the later one does not air
check-overlap-self-fix = its programme lasts up to { $minutes ->
        [one] 1 minute
       *[other] { $minutes } minutes
    }: space its slots at least that far apart, or air fewer messages per slot

## render and play (src/cli/render.rs, src/cli/render/township.rs)
render-say-what = say what to render: `--message ID`, or `--township CODE` (its next broadcast, or the one at `--at TIME`)
render-at-invalid = `--at { $at }` is not a time: write `2026-12-01 08:00` (Asia/Shanghai) or RFC 3339 such as `2026-12-01T08:00:00+08:00`
render-check-errors = warning: `shengbo check` finds { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }; rendering from the valid campaigns and messages
render-unknown-township = { $reason }, { $hint }
render-broadcast = broadcast { $broadcast }
render-next = no `--at`: the next broadcast from now ({ $now }) is { $broadcast }
render-next-after = no broadcast starts at { $at }; rendering the next one: { $broadcast }
render-describe = { $name } `{ $code }` at { $start } ({ $tz }), campaign `{ $campaign }`, { $clips } clips, { $seconds } s
render-nothing = no broadcast for township `{ $code }` at or after { $at } within { $days } days
render-nearest-before = ; the nearest before is { $broadcast }
render-none-before = ; none in the { $days } days before either
render-skipped-there = ; skipped there: { $reasons }
check-stand-ins = { $count ->
        [one] 1 clip stands
       *[other] { $count } clips stand
    } in for staff recordings still to be made: { $files }
check-stand-ins-notes = as their `message.toml` says: { $notes }

## the coverage page (src/server/page.rs, src/server/page/)
page-title = shengbo coverage
page-heading = shengbo · fraud-awareness broadcast coverage
page-totals = Totals
page-period = Period (Beijing time) { $from } to { $to }, { $runs ->
    [one] 1 run
   *[other] { $runs } runs
}.
page-period-latest = No period given: the 7 days up to the day of the most recent run ({ $latest }).
page-period-no-runs = No period given: the ledger holds no run yet.
page-empty = No run in this period, so there are no coverage figures to show.
page-empty-hint = Add ?from=2026-11-01&to=2026-12-01 to the address for another period; runs appear here after shengbo run or shengbo demo.
page-scope = Area
page-prefecture = Liangshan Yi Autonomous Prefecture (population { $people })
page-denominators = Denominators: reached (of targeted) divides by the people of the townships targeted in the period; reached (of area) by the whole prefecture. People reached = each township's people in its best run (every segment confirmed) × the coverage its platform reported; where no report came they count whole, shown apart as "no coverage report". { $estimated } targeted townships have an estimated population.
page-col-townships = Townships (reached/targeted)
page-col-targeted = People targeted
page-col-reached = People reached
page-col-played = People played to
page-col-unreported = No coverage report
page-col-pct-targeted = Reached (of targeted)
page-col-pct-played = Played (of targeted)
page-col-pct-area = Reached (of area)
page-col-failures = Failures
page-col-name = Name
page-by-county = By county
page-by-township = By township
page-by-village = By village
page-row-summary = { $code } { $name } — reached { $pct }
page-chart-heading = People reached per county
page-chart-caption = Each bar's full length is the county's population; the dark part is the people reached in the period. Sorted by share reached, highest first.
page-chart-axis-x = People
page-chart-axis-y = County
page-chart-legend-population = County population
page-chart-legend-reached = Reached in the period
page-chart-value = { $reached } / { $people } ({ $pct })
page-chart-not-targeted = not targeted
page-unreached = Townships not reached
page-unreached-none = Every targeted township was reached.
page-unreached-people = People targeted
page-unreached-reason = Reason
page-unreached-pending = no delivery or play confirmed (still waiting, or the platform did not report)
page-failures = Failures and expiries
page-none = None
page-col-time = Time
page-col-campaign = Campaign
page-col-township = Township
page-col-county = County
page-col-lang = Language
page-col-endpoint = Endpoint
page-col-state = State
page-col-reason = Reason
page-endpoints = Endpoint health
page-no-records = No records yet
page-col-circuit = Circuit
page-col-consecutive = Consecutive failures
page-col-last-seen = Last answer
page-lang-ii = Nuosu Yi
page-lang-zh = Mandarin
page-state-pending = pending
page-state-sent = sent
page-state-delivered = delivered
page-state-rejected = rejected
page-state-expired = expired
page-state-played = played
page-state-failed = play failed
page-state-cancelled = cancelled
page-circuit-closed = closed
page-circuit-open = open
page-circuit-half_open = half open (probing)

## plan (src/cli/plan.rs, src/cli/plan/table.rs, src/plan/mod.rs)
cli-error = error: { $message }
cli-help = {"  "}= help: { $help }
plan-from-too-late = `--from` is too late
plan-to-before-from = `--to` ({ $to }) must be after `--from` ({ $from })
plan-cannot-plan = cannot plan `{ $root }`
plan-check-errors = warning: `shengbo check` finds { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }; planning only the valid campaigns and messages
plan-col-start = start
plan-col-end = end
plan-col-county = county
plan-col-township = township
plan-col-code = code
plan-col-campaign = campaign
plan-col-programme = programme
plan-col-why = why
plan-col-day = day
plan-col-name = name
plan-col-broadcasts = broadcasts
plan-col-townships = townships
plan-villages = { $township } ({ $villages ->
        [one] 1 village
       *[other] { $villages } villages
    })
plan-footer = { $broadcasts ->
        [one] 1 broadcast
       *[other] { $broadcasts } broadcasts
    } in { $townships ->
        [one] 1 township
       *[other] { $townships } townships
    }
plan-footer-skipped = ; skipped: { $list }
plan-footer-skip = { $count } { $reason }
plan-footer-lost = ; { $count } lost on priority
plan-summary-total = { $broadcasts ->
        [one] 1 broadcast
       *[other] { $broadcasts } broadcasts
    }
skip-quiet-hours = starts in the township's quiet hours
skip-outside-valid-dates = outside the campaign's valid dates
skip-message-outside-valid-dates = message not valid on that day
skip-unknown-message = unknown message
skip-not-airable = message not airable
skip-no-airable-clip = no airable `{ $lang }` clip
skip-pair-rejected = pair rejected
skip-nothing-to-air = no airable message at this occurrence
skip-unknown-township = township not in the directory
skip-named-day = kept free of broadcasts: { $day }
skip-no-market-days = no market days known for the township
list-separator = {", "}

## run and demo (src/cli/run.rs, src/cli/run/setup.rs, src/cli/demo.rs)
run-needs-once = `shengbo run` needs `--once`; the scheduler daemon is `shengbo serve`
run-no-campaign = no valid campaign in `schedules/`
run-no-such-campaign = no valid campaign `{ $id }` in `schedules/`
run-no-slot-after = no slot at or after `{ $at }` within a week
run-no-slot-week = no slot within the next week
run-not-a-time = `{ $at }` is not a time: use RFC 3339 or `YYYY-MM-DD HH:MM` (Beijing time)
run-not-beijing-time = `{ $at }` is not a valid Beijing time
run-nothing-airs = { $campaign } at { $at }: nothing airs (quiet hours, valid dates or no airable message)
pair-half = { $lang ->
        [ii] Yi
       *[zh] Mandarin
    } half
run-pair-cancelled = cancelled pair: { $half } at `{ $endpoint }` (townships { $townships }) cancelled — { $reason }
run-pair-cancel-pending = cancel pending: { $half } at `{ $endpoint }` (townships { $townships }) — { $reason }; the cancel is still being sent
run-pair-aired-alone = HALF A PAIR AIRED: { $half } at `{ $endpoint }` (townships { $townships }) played alone — { $reason }; { $detail }
run-pair-may-air = HALF A PAIR MAY AIR: { $half } at `{ $endpoint }` (townships { $townships }) could not be cancelled — { $reason }; { $detail }
run-unsettled = { $count ->
        [one] 1 delivery has
       *[other] { $count } deliveries have
    } no final state yet (the ledger keeps them for `serve`)
run-heading = run { $run } — { $campaign } at { $at } (Beijing)
run-col-township = township
run-col-name = name
run-col-reason = reason
run-unserved = no endpoint serves this township
run-deliveries = deliveries: { $states }
run-reach = reach: reached { $reached } of { $targeted } people ({ $share }) in { $townships_reached } of { $townships_targeted } targeted townships; played in { $townships_played } townships, { $played } people ({ $played_share })
run-unreported = not confirmed by a coverage report: { $townships } townships, { $people } people (counted whole)
run-denominator = denominator: the population of the { $townships } townships { $runs ->
        [1] this run
       *[other] these runs
    } targeted; each reached township counts its people × the coverage its platform reported
run-loading = loading the project in `{ $root }`
run-registry-errors = the endpoint registry has { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }
run-settings-errors = `schedules/settings.toml` has { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }
run-creating = creating `{ $path }`
run-http-client = building the HTTP client
demo-heading = shengbo demo: { $platforms } county platforms simulated at { $url }, play clock ×{ $speed }, { $slots } slot occurrences from { $from } (Beijing)
demo-already = {"  "}(already in the ledger from an earlier run: nothing sent twice)
demo-simulator = simulator: { $requests } requests, { $messages } messages accepted, { $outages } outages injected
demo-wire = wire dates: { $packages } packages, at most { $skew } s from real time, { $mismatches } ids dated another day
demo-done = done in { $seconds } s
demo-slot = { $at } { $campaign }: { $deliveries } deliveries ({ $states }); reached { $reached }/{ $targeted } people ({ $share }) in { $townships_reached }/{ $townships_targeted } townships
demo-per-county = per county, over the { $slots } slot occurrences (a township counts once, by its best confirmed outcome):
demo-col-county = county
demo-col-name = name
demo-col-townships = townships
demo-col-people = people reached / targeted
demo-ledger-is = the ledger is in `{ $path }`; look further with:
demo-next-coverage = {"      "}reach per township of these slots, from this ledger
demo-next-open = {"      "}then open { $url }
demo-no-token = {"      "}(no coordinator token: { $error })
demo-next-sim = {"      "}push one slot by hand to a simulator in another process

## catalog (src/cli/catalog.rs)
catalog-col-message = MESSAGE
catalog-col-lang = LANG
catalog-col-duration = DURATION
catalog-col-format = FORMAT
catalog-col-gain = GAIN dB
catalog-col-limiter = LIMITER dB
catalog-col-lufs-after = LUFS AFTER
catalog-col-dbtp-after = dBTP AFTER
catalog-col-status = STATUS
catalog-col-reason = REASON
catalog-status-ok = ok
catalog-status-warning = warning
catalog-status-rejected = rejected
catalog-rejected = { $rejected } of { $clips ->
        [one] 1 clip
       *[other] { $clips } clips
    } rejected: they will not be scheduled
catalog-cannot-read = cannot read `{ $path }`
catalog-bad-gate = invalid gate settings in `{ $path }`
catalog-limiter-on = LIMITER is the most the true-peak limiter takes off the peaks the gain pushes over the ceiling
catalog-limiter-off = the limiter is off (`limiter = false`): the ceiling caps the gain
catalog-policy = LUFS and dBTP as aired (mono downmix); GAIN brings each clip to { $target } LUFS under a { $ceiling } dBTP ceiling, the two languages within { $tolerance } LU (`^` capped by the ceiling, `=` lowered to match the pair); { $peaks }; AFTER is what the clip then measures; a rejected clip gets no gain

## calendar (src/cli/calendar.rs)
calendar-year-range = `--year` { $year } is out of range, expected { $first }–{ $last }
calendar-township = `--township`: { $error }
calendar-col-name = named day
calendar-col-first = first
calendar-col-last = last
calendar-col-days = days
calendar-col-basis = basis
calendar-col-source = rule or notice
calendar-basis-rule = rule
calendar-basis-notice = notice
calendar-named-days = { $count ->
        [one] 1 named day
       *[other] { $count } named days
    } in { $year }
calendar-no-markets = { $name } `{ $code }`: no market days known (add a `[[market]]` to `{ $file }`)
calendar-county-default = , county default
calendar-market-days = { $name } `{ $code }` market { $rule }{ $from }: { $count ->
        [one] 1 market day
       *[other] { $count } market days
    } in { $year }
calendar-month = { $month ->
        [1] Jan
        [2] Feb
        [3] Mar
        [4] Apr
        [5] May
        [6] Jun
        [7] Jul
        [8] Aug
        [9] Sep
        [10] Oct
        [11] Nov
       *[12] Dec
    }

## coverage (src/cli/coverage.rs)
coverage-no-ledger = no ledger at `{ $path }`: nothing has been run with this data directory yet (run `shengbo run` or `shengbo serve`, or pass `--data-dir`)
coverage-heading = coverage { $from } .. { $to } ({ $runs ->
        [one] 1 run
       *[other] { $runs } runs
    }{ $campaign })
coverage-campaign = , campaign `{ $campaign }`
coverage-col-area = area
coverage-col-townships = townships
coverage-col-villages = villages
coverage-col-targeted = targeted
coverage-col-reached = reached
coverage-col-played = played
coverage-col-no-report = no-report
coverage-col-pct-targeted = %tgt
coverage-col-pct-played = %tgt-pl
coverage-col-pct-area = %area
coverage-col-failures = fail
coverage-total = 凉山州 total
coverage-legend = %tgt: of the population targeted ({ $targeted }); %area: of each area's population (total: the prefecture's { $area }); reached: people × the coverage the platforms reported; no-report: reached people not confirmed by a coverage report (counted whole); { $townships } targeted townships and { $villages } villages have estimated populations
coverage-failed = failed: run { $run } { $at } { $places } { $what }: { $reason }
coverage-cancelled = cancelled pair: run { $run } { $at } { $places } { $half } at `{ $endpoint }` — { $reason }
coverage-no-reason = no reason recorded
demo-foreign-endpoint = `shengbo demo` pushes only to its own loopback simulator, but endpoint `{ $endpoint }` in `schedules/endpoints.toml` goes to `{ $url }`; use `{"{"}sim{"}"}/…` URLs for a demo, or `shengbo run --once` to push to real platforms

## token, ledger, play, render, serve, sim (src/cli/token.rs, ledger.rs, play.rs, render.rs, serve.rs, sim.rs)
token-say-scope = give `--county CODE` or `--coordinator`
token-save-failed = could not save the token
token-read-failed = could not read the tokens
token-revoke-failed = could not revoke the token
token-created = token `{ $name }` ({ $scope }) created; it is shown only now:
token-none = no tokens in `{ $path }`
token-revoked = token `{ $name }` revoked
token-scope-coordinator = coordinator
token-scope-station = station of county { $county }
ledger-migrate-needs-sqlite = `ledger migrate` copies a SQLite ledger: pass `--ledger sqlite:PATH`
ledger-none-at = no ledger at `{ $path }`
ledger-to-not-postgres = --to `{ $to }`: expected a `postgres://` URL
ledger-col-table = table
ledger-col-rows = rows
ledger-col-sha256 = sha256
ledger-copied = copied `{ $from }` into postgres://{ $target }: { $tables } tables verified
play-cannot = cannot play: { $reason }
play-render-instead = render to a file instead: `shengbo render ... -o programme.wav`
render-say-where = say where to write: `-o programme.wav`, `--adjusted DIR`, or both
render-writing = writing `{ $path }`
render-wrote = wrote { $path }: { $rate } Hz, { $channels } channel(s), 16-bit PCM, { $frames } frames
render-cannot-read = cannot read `{ $path }`: { $reason }
render-adjusted = adjusted { $from } -> { $to } ({ $gain } dB{ $limiter }, { $bytes } bytes, sha256 { $sha }{ $cached })
render-adjusted-limiter = , limiter -{ $db } dB
render-adjusted-cached = , cached
render-pair-rejected = warning: message `{ $message }` would not air as it is: { $reasons }
serve-cannot-listen = cannot listen on `{ $addr }`
serve-listening = listening on { $url }
serve-stopped = serve stopped
sim-private-key = private key: { $path }
sim-public-key = public key:  { $path }
sim-profile = simulator profile
sim-reading = reading `{ $path }`
sim-in-file = in `{ $path }`
sim-binding = binding `{ $addr }`
sim-listening = simulator listening on { $url } (POST packages to any path; Ctrl-C stops)
sim-serving = serving
render-clipped = warning: { $samples } samples clipped (explicit gains)
render-catalog-unreadable = cannot read the catalog of `{ $root }`
render-cannot-load = cannot load `{ $root }`
render-clip-rejected = `{ $file }` is rejected by the audio gate and never airs: { $reasons }
render-no-message = no message `{ $id }` in `{ $dir }`
render-no-message-suggest = no message `{ $id }` in `{ $dir }`, did you mean `{ $name }`?
render-no-clip = message `{ $id }` has no `{ $lang }` ({ $name }) clip: expected `{ $dir }/{ $lang }.<wav|flac|mp3|ogg|m4a|aac>`
token-file-io = tokens file `{ $path }`: { $reason }
token-file-invalid = tokens file `{ $path }` is not valid: { $reason }
token-exists = a token named `{ $name }` already exists; revoke it first or pick another name
token-unknown = no token named `{ $name }`
token-bad-name = token name `{ $name }` { $reason }
token-name-empty = is empty
token-name-long = is longer than { $max } characters
token-name-control = holds a control character (newline, tab, …)
token-name-space = starts or ends with a space
play-not-built = this build has no sound-device support (rebuild with `--features audio-device`)
play-no-device = no usable sound device: { $reason }
play-gap = (gap)
play-repeat = (repeat { $repeat })
timeline-col-start = start
timeline-col-length = length
timeline-col-lang = lang
timeline-col-gain = gain
timeline-col-expected = expected
timeline-col-message = message
timeline-col-file = file
timeline-capped = (capped by the true-peak ceiling, { $lu } LU short)
timeline-matched = (lowered to match its pair, { $lu } LU short)
timeline-limiter = (limiter took peaks down by up to { $db } dB)
timeline-total = total { $total }

## HTTP error messages (src/server/): the `message` of an error body; `error` is a stable code
http-lookup = { $reason }; { $help }
http-internal = internal error
http-level-township = township
http-level-village = village
http-level-county = county
http-malformed-code = malformed { $what } code `{ $code }`: expected { $digits } digits
http-no-font = no font `{ $file }`
http-malformed-audio = malformed audio name `{ $file }`: expected `<sha256>.<ext>` (64 hex digits)
http-signed-link-half = a signed link needs both `exp` and `sig`
http-no-signed-links = this server does not take signed links
http-no-recording = no recording `{ $file }` in the catalog
http-recording-elsewhere = recording `{ $file }` is not in any playlist of county `{ $county }`
http-no-ledger = this server has no ledger; coverage is unavailable
http-unknown-format = unknown format `{ $format }`, expected `json` or `csv`
http-token-other-county = token `{ $name }` is scoped to county `{ $own }`, not `{ $county }`
http-token-station = token `{ $name }` is a station token; coverage needs a coordinator token
http-token-required = a token is required: `Authorization: Bearer <token>` or `?token=<token>`
http-token-unknown = unknown or revoked token
http-bad-at = `at` must be an RFC 3339 time like `2026-11-27T20:00:00+08:00`, not `{ $at }`: { $reason }
http-bad-date = `date` must look like `2026-11-27`, not `{ $date }`
http-unknown-village = unknown village `{ $code }`
http-no-broadcast = no broadcast planned for { $area } at or after { $at }
http-area-township = township `{ $code }` ({ $name })
http-area-village = village `{ $code }` ({ $name }, { $township })
http-unknown-playlist = unknown playlist `{ $file }`; expected one of { $known }
http-no-route = no route `{ $path }`
http-no-state-reports = this server does not take state reports (read-only mirror)
signed-key-io = audio URL key `{ $path }`: { $reason }
signed-key-malformed = audio URL key `{ $path }` is not 64 hex digits
signed-bad-exp = `exp` must be a time in Unix seconds at most 30 days ahead, not `{ $exp }`
signed-expired = this link expired at { $at }
signed-bad-sig = `sig` does not match this clip and expiry
http-multipart = multipart body: { $reason }
http-no-tar-part = no file part ending in `.tar` in the multipart body
unknown-locale = unknown interface language `{ $lang }`, expected `zh` or `en`
cli-runtime = starting the async runtime

## serve's start-up errors (src/service/mod.rs)
service-listen = cannot listen on `{ $addr }`: { $reason }
service-schedules = the schedules have { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }; nothing scheduled
service-registry = the endpoint registry has { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }
service-settings = `schedules/settings.toml` has { $errors ->
        [one] 1 error
       *[other] { $errors } errors
    }
service-tokens = tokens: { $reason }
service-client = building the HTTP client: { $reason }
service-task = a start-up task failed: { $reason }
service-what-listen-address = reading the listen address
service-what-http = the HTTP server
service-what-create = creating `{ $path }`
