<?php
echo "before the error\n";
echo intdiv(1, 0);
