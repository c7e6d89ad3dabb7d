-- The matched rules whose notification suppression turned into a digest, with the digest's due time:
-- [{ "ruleId": "…", "digestDueAt": "…" }]. NULL for events processed before this column existed.
ALTER TABLE `Event` ADD COLUMN `suppressedRules` JSON NULL AFTER `matchedRules`;
