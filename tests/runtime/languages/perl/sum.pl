my $sum = 0;
$sum += $_ for split ' ', do { local $/; <STDIN> };
print "$sum\n";
