# read -d '': everything up to the end of input, split on blanks and newlines alike.
read -r -d '' -a words
sum=0
for w in "${words[@]}"; do
    sum=$((sum + w))
done
echo "$sum"
