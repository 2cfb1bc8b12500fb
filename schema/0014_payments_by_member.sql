-- A payment with points is bounded by the share of its purchase that earlier payments left
-- (docs/program-reference.md, `payment`): each payment reads the member's payments, found here
-- rather than by reading every redemption.
CREATE INDEX redemptions_payments ON redemptions (member_id) WHERE reward_id IS NULL;
