"""网格事件: report, dispatch, handle, verify, close — the grid events area."""
