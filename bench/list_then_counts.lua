-- wrk: one browser view of a case list is two requests, the page and then its state
-- tabs' counts (htmx, target "state-tabs"); each connection alternates them.
local turn, counts = 0, nil

request = function()
  if counts == nil then
    counts = {}
    for name, value in pairs(wrk.headers) do counts[name] = value end
    counts["HX-Request"] = "true"
    counts["HX-Target"] = "state-tabs"
  end
  turn = turn + 1
  if turn % 2 == 1 then
    return wrk.format(nil, nil, wrk.headers)
  end
  return wrk.format(nil, nil, counts)
end
