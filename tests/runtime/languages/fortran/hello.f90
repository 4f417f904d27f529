program hello
  implicit none
  print '(A)', 'Hello, World!'
end program hello
