! Copies stdin line by line, exactly: non-advancing reads with size= keep trailing blanks,
! and a line longer than the buffer comes in several pieces (iostat 0 until its end).
program echo
  use, intrinsic :: iso_fortran_env, only: iostat_eor, iostat_end
  implicit none
  character(len=1024) :: buf
  integer :: ios, n
  do
    read (*, '(A)', advance='no', iostat=ios, size=n) buf
    if (ios == iostat_end) exit
    write (*, '(A)', advance='no') buf(1:n)
    if (ios == iostat_eor) write (*, '(A)') ''
  end do
end program echo
