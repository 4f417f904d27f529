<?php
$sum = 0;
foreach (preg_split('/\s+/', stream_get_contents(STDIN), -1, PREG_SPLIT_NO_EMPTY) as $word) {
    $sum += intval($word);
}
echo $sum, "\n";
