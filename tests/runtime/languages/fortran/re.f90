program fails
  implicit none
  print '(A)', 'before the error'
  error stop 3
end program fails
