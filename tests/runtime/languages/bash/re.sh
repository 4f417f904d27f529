echo "before the error"
exit 3
