-- Members' records may now be of format 2 (src/ledger/member_record.hpp): lots and entries
-- written against the one before, names by their place among the last used. This build reads
-- both formats and writes a row as format 2 the next time its member changes, so nothing is
-- rewritten here. The migration is the marker: a build that reads only format 1 refuses this
-- file at start ("newer than this program's") instead of failing member by member.
SELECT 1;
