package normalize

import "evtxhunt/evtx"

// Wanted lists the (channel, event id) pairs FromRecord maps; pass it to
// evtx.Scan so the reader decodes nothing else.
var Wanted = []evtx.Want{
	{Channel: SysmonChannel, EventID: 1},
	{Channel: SysmonChannel, EventID: 5},
	{Channel: SecurityChannel, EventID: 4688},
	{Channel: SecurityChannel, EventID: 4689},
}
