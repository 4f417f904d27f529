! A list-directed READ starts a new line each time, so every line is split into words here
! and each word read on its own (int64: sums beyond 2**31).
program total
  use, intrinsic :: iso_fortran_env, only: int64, iostat_end
  implicit none
  character(len=*), parameter :: blanks = ' ' // achar(9) // achar(13)
  character(len=4096) :: line
  integer(int64) :: x, s
  integer :: ios, a, k
  s = 0
  do
    read (*, '(A)', iostat=ios) line
    if (ios == iostat_end) exit
    a = 1
    do
      k = verify(line(a:), blanks)
      if (k == 0) exit
      a = a + k - 1
      k = scan(line(a:), blanks)
      read (line(a:a + k - 2), *) x
      s = s + x
      a = a + k - 1
    end do
  end do
  print '(I0)', s
end program total
