// After an error the parser resumes at the next "| stage" line, even inside
// an unclosed parenthesis, and keeps one error per line. An error at the end
// of a line is reported at the "|" that starts the next one.
dataset = xdr_data
| filter (a = 1 and /* ERROR HERE "expected operand, found \"\|\"" */
| sort desc x
| alter b = concat(a, /* ERROR HERE "expected operand, found \"\|\"" */
| sort desc y
| fields a b /* ERROR "expected \"\|\" or end of query after stage, found \"b\"" */
| sort desc
| limit 5 6 /* ERROR "expected \"\|\" or end of query after stage, found 6" */
