puts "before the error"
raise "boom"
