-- Lua 5.4 integers are 64-bit; math.tointeger keeps the sum an integer (no ".0").
local sum = 0
for word in io.read("a"):gmatch("%S+") do
  sum = sum + math.tointeger(tonumber(word))
end
print(sum)
