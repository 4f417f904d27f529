import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class Main {
    static final class Reader {
        private final BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        private StringTokenizer words = new StringTokenizer("");

        String next() throws IOException {
            while (!words.hasMoreTokens()) {
                String line = in.readLine();
                if (line == null)
                    return null;
                words = new StringTokenizer(line);
            }
            return words.nextToken();
        }
    }

    public static void main(String[] args) throws IOException {
        Reader r = new Reader();
        long sum = 0;
        for (String w = r.next(); w != null; w = r.next())
            sum += Long.parseLong(w);
        System.out.println(sum);
    }
}
