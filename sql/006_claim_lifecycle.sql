-- 006: the claim lifecycle (ADJUDICATION.md §10, §11): replacements and voids.
--
--   * three nullable columns on determinations, so that history rebuilt from stored rows
--     (store_load_history -> engine_load, in seq order) reverses the same lines the judgment
--     did, whichever worker judged them and however long ago;
--   * determinations stay an append-only audit trail: a reversal is recorded by the void's or
--     replacement's own row (reversed_event_id), never by rewriting the original's, and the
--     worker loses the UPDATE right it never used;
--   * ORIGINAL_NOT_FOUND in reason_codes (policy/IP0625.json);
--   * dashboards: paid doses net of reversals, voids and replacements per day, and
--     approvals_expiring no longer counts a reversed claim line as use;
--   * retro: the finding REVERSAL_CHANGED, and the stored and re-judged reversal on a finding.
-- Written to be safe to run again, like 003.

-- ------------------------------------------------------------------ columns
-- ADD COLUMN without a default is a catalogue change only: instant on a large table, no
-- rewrite. Existing rows keep NULL, which on a claim row means ORIGINAL (before §10 every
-- claim line was one); they are not rewritten.
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS frequency_code text;     -- claim: ORIGINAL, REPLACEMENT, VOID; PA: null
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS original_claim_id text;  -- REPLACEMENT/VOID: the reference as given (untrimmed)
ALTER TABLE determinations ADD COLUMN IF NOT EXISTS reversed_event_id text;  -- accepted REPLACEMENT/VOID: the determination it reversed
-- NOT VALID: the old rows (all null) need no scan; new rows are checked.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'determinations_frequency_code_check'
                   AND conrelid = 'determinations'::regclass) THEN
        ALTER TABLE determinations ADD CONSTRAINT determinations_frequency_code_check
            CHECK (frequency_code IN ('ORIGINAL', 'REPLACEMENT', 'VOID')) NOT VALID;
    END IF;
END
$$;
COMMENT ON COLUMN determinations.frequency_code IS
    'Claim frequency (ADJUDICATION.md §10); null on a claim row written before migration 006 means ORIGINAL.';
COMMENT ON COLUMN determinations.reversed_event_id IS
    'Set on an accepted REPLACEMENT or VOID (ORIGINAL check met): it reversed every live billed '
    'determination of the line (member_id, btrim(original_claim_id), line_number) before it.';

-- ------------------------------------------------------------------ append-only
-- The worker writes determinations with COPY and reads them; it never updates one (a reversal
-- is a new row). 003 granted UPDATE on all four of its tables; take it back on this one.
REVOKE UPDATE ON TABLE determinations FROM amtagvi_worker;

-- ------------------------------------------------------------------ reason codes
-- policy/IP0625.json (file_version IP0625-2026.05-r1) gained ORIGINAL_NOT_FOUND.
INSERT INTO reason_codes (kind, code, reason_group, carc, rarc, message) VALUES
    ('claim', 'ORIGINAL_NOT_FOUND', 'CO', '16', 'M47',
     'The replacement or void names no live claim line of this member (original claim number and line); correct the reference and resubmit.')
ON CONFLICT (kind, code) DO UPDATE
    SET reason_group = EXCLUDED.reason_group, carc = EXCLUDED.carc, rarc = EXCLUDED.rarc,
        message = EXCLUDED.message;

-- ------------------------------------------------------------------ indexes
-- Both are partial on the rows of replacements and voids only: nothing to write for the
-- ORIGINAL claim lines and PAs that make up nearly all of the stream.
--
-- Is a billed line reversed? A later accepted REPLACEMENT/VOID of the member names its line.
-- Probed once per paid candidate by paid_doses_daily and approvals_expiring.
CREATE INDEX IF NOT EXISTS determinations_reversals
    ON determinations (member_id, (btrim(original_claim_id, E' \t\r\n')), line_number, seq)
    WHERE reversed_event_id IS NOT NULL;
-- claim_corrections_daily: replacements and voids by UTC day received, index-only.
CREATE INDEX IF NOT EXISTS determinations_dash_corrections
    ON determinations (((received_at AT TIME ZONE 'UTC')::date), frequency_code)
    INCLUDE (received_at, reversed_event_id)
    WHERE frequency_code IN ('REPLACEMENT', 'VOID');

-- ------------------------------------------------------------------ views
-- A billed determination (§10) is an ORIGINAL (frequency_code 'ORIGINAL', or null on a row
-- written before 006, whatever the length of its criteria trace) or an accepted REPLACEMENT
-- (reversed_event_id set). It is reversed when a later (higher seq) accepted REPLACEMENT or
-- VOID of the same member names its line: btrim(original_claim_id) = claim_id and the same
-- line_number. A paid dose is a billed APPROVED determination that is not reversed. (An APPROVED
-- REPLACEMENT was always accepted: ORIGINAL_NOT_FOUND denies.)

-- One row per service date (decision_date) with billed approved claim lines.
CREATE OR REPLACE VIEW dashboards.paid_doses_daily AS
SELECT x.day, count(*) AS approved_lines,
       count(*) FILTER (WHERE x.reversed) AS reversed_lines,
       count(*) - count(*) FILTER (WHERE x.reversed) AS paid_doses  -- one EXISTS probe per line
FROM (SELECT d.decision_date AS day,
             EXISTS (SELECT 1 FROM public.determinations r
                     WHERE r.reversed_event_id IS NOT NULL
                       AND r.member_id = d.member_id
                       AND btrim(r.original_claim_id, E' \t\r\n') = d.claim_id
                       AND r.line_number = d.line_number
                       AND r.seq > d.seq) AS reversed
      FROM public.determinations d
      WHERE d.kind = 'claim' AND d.outcome = 'APPROVED'
        AND (d.frequency_code IS NULL OR d.frequency_code = 'ORIGINAL'
             OR (d.frequency_code = 'REPLACEMENT' AND d.reversed_event_id IS NOT NULL))) x
GROUP BY x.day;

-- Replacements and voids by the UTC day they were received (a void's service date can be
-- months back): accepted (the line was reversed) or refused with ORIGINAL_NOT_FOUND (the only
-- reason an accepted-or-not check leaves reversed_event_id null).
CREATE OR REPLACE VIEW dashboards.claim_corrections_daily AS
SELECT (d.received_at AT TIME ZONE 'UTC')::date AS day, d.frequency_code, count(*) AS count,
       count(d.reversed_event_id) AS accepted,
       count(*) - count(d.reversed_event_id) AS original_not_found
FROM public.determinations d
WHERE d.frequency_code IN ('REPLACEMENT', 'VOID')
GROUP BY (d.received_at AT TIME ZONE 'UTC')::date, d.frequency_code;

-- As in 003, and a claim line used the approval only while it is a paid dose: a line a later
-- void or replacement reversed no longer uses it.
CREATE OR REPLACE VIEW dashboards.approvals_expiring AS
SELECT p.pa_id, p.event_id, p.determination_id, p.decision_date, p.valid_from, p.valid_until,
       p.valid_until - 1 AS last_valid_day,
       p.valid_until - (now() AT TIME ZONE 'UTC')::date AS days_left
FROM public.determinations p
WHERE p.kind = 'prior_auth' AND p.outcome = 'APPROVED'
  AND p.valid_until > (now() AT TIME ZONE 'UTC')::date
  AND p.valid_until <= (now() AT TIME ZONE 'UTC')::date + 30
  AND NOT EXISTS (SELECT 1 FROM public.determinations l
                  WHERE l.kind = 'prior_auth' AND l.outcome = 'APPROVED'
                    AND l.member_id = p.member_id AND l.pa_id = p.pa_id AND l.seq > p.seq
                  OFFSET 0)
  AND NOT EXISTS (SELECT 1 FROM public.determinations c
                  WHERE c.kind = 'claim' AND c.outcome = 'APPROVED' AND c.matched_pa_id IS NOT NULL
                    AND c.member_id = p.member_id AND c.matched_pa_id = p.pa_id
                    AND NOT EXISTS (SELECT 1 FROM public.determinations r
                                    WHERE r.reversed_event_id IS NOT NULL
                                      AND r.member_id = c.member_id
                                      AND btrim(r.original_claim_id, E' \t\r\n') = c.claim_id
                                      AND r.line_number = c.line_number
                                      AND r.seq > c.seq)
                  OFFSET 0);

GRANT SELECT ON dashboards.paid_doses_daily, dashboards.claim_corrections_daily TO amtagvi_dashboard;

-- ------------------------------------------------------------------ retro
ALTER TABLE retro_findings DROP CONSTRAINT IF EXISTS retro_findings_finding_check;
ALTER TABLE retro_findings ADD CONSTRAINT retro_findings_finding_check
    CHECK (finding IN ('POSSIBLE_OVERPAYMENT', 'NOW_PAYABLE', 'OUTCOME_CHANGED', 'REASONS_CHANGED',
                       'REVERSAL_CHANGED'));
-- The stored and the re-judged reversed_event_id of a replacement or void (null: none). On any
-- finding, so that a replacement now denied (POSSIBLE_OVERPAYMENT) still shows its reversal moved.
ALTER TABLE retro_findings ADD COLUMN IF NOT EXISTS old_reversed_event_id text;
ALTER TABLE retro_findings ADD COLUMN IF NOT EXISTS new_reversed_event_id text;
-- Every event in the window whose re-judged reversal differs, whatever its finding.
ALTER TABLE retro_runs ADD COLUMN IF NOT EXISTS reversals_changed bigint NOT NULL DEFAULT 0;
