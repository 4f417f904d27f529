print "before the error\n";
die "boom\n";
