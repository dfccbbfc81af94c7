/* SPDX-License-Identifier: MIT */
/* test_map_svg.c - the SVG of percpu-info map opens in a web browser: headless chromium
 * (when installed; skipped otherwise) parses it as an SVG document with every cell in
 * it, no XML error, and renders a screenshot of it.  PCPU_SVG_SCREENSHOT=FILE keeps the
 * screenshot. */
#include <sys/stat.h>

#include "tool_run.h"

int main(int argc, char **argv)
{
	char chromium[PATH_MAX], svg[64], png[64], url[96], shot[128];
	const char *keep = getenv("PCPU_SVG_SCREENSHOT");
	struct result r;
	struct stat st;
	int rects = 0, cells = 0;

	(void)argc;
	if (tool_find(argv[0]) != 0)
		return 1;
	snprintf(svg, sizeof(svg), "/tmp/pcpu-map-%d.svg", (int)getpid());
	snprintf(png, sizeof(png), "/tmp/pcpu-map-%d.png", (int)getpid());
	run(&r, NULL, NULL, 30, ARGS("map", "--svg", svg));
	CHECK_EQ(r.status, 0);
	/* the cells of the text picture: the characters between the bars of each row */
	for (const char *p = r.out; (p = strchr(p, '|')) != NULL; p++) {
		const char *end = strchr(p + 1, '|');

		if (!end || (strchr(p, '\n') && strchr(p, '\n') < end))
			break;
		for (p++; p < end; p++)
			cells += *p != ' ';
	}
	if (getenv("PCPU_TEST_RUNNER")) { /* it runs target programs: chromium is the host's */
		printf("under %s: the browser check is skipped\n", getenv("PCPU_TEST_RUNNER"));
		unlink(svg);
		TEST_DONE();
	}
	if (!find_in_path("chromium", chromium, sizeof(chromium)) &&
	    !find_in_path("chromium-browser", chromium, sizeof(chromium))) {
		printf("chromium not installed: the browser check is skipped\n");
		unlink(svg);
		TEST_DONE();
	}
	snprintf(tool, sizeof(tool), "%s", chromium);
	snprintf(url, sizeof(url), "file://%s", svg);
	/* the document as the browser parsed it */
	run(&r, NULL, NULL, 120, ARGS("--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", url));
	CHECK_EQ(r.status, 0);
	for (const char *p = r.out; (p = strstr(p, "<rect")) != NULL; p++)
		rects++;
	if (!strstr(r.out, "<svg") || strstr(r.out, "parsererror") || rects != cells + 6)
		fprintf(stderr, "chromium's DOM of the SVG (%d rects):\n%.2000s\n", rects, r.out);
	CHECK(strstr(r.out, "<svg") != NULL);
	CHECK(strstr(r.out, "parsererror") == NULL);
	CHECK(cells > 0);
	CHECK_EQ(rects, cells + 6); /* the background, five in the legend, and the cells */
	snprintf(shot, sizeof(shot), "--screenshot=%s", keep && *keep ? keep : png);
	run(&r, NULL, NULL, 120, ARGS("--headless", "--no-sandbox", "--disable-gpu",
				      "--hide-scrollbars", "--window-size=1000,400", shot, url));
	CHECK_EQ(r.status, 0);
	CHECK(stat(keep && *keep ? keep : png, &st) == 0 && st.st_size > 1000);
	unlink(svg);
	unlink(png);
	TEST_DONE();
}
