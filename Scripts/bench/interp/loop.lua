local total = 0
local i = 0
local t0 = os.clock()
while i < 10000000 do
  total = total + i * 2
  i = i + 1
end
print(os.clock() - t0, total)
