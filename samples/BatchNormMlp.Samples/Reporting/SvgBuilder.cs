using System.Globalization;
using System.Text;

namespace BatchNormMlp.Samples.Reporting;

/// <summary>
/// Writes one SVG document as text. Every string goes through <see cref="Escape"/> and every number through
/// <see cref="Num"/> (invariant culture, two decimals), so the same data always gives the same bytes and the
/// output is well-formed XML. No ids are written: several SVGs inlined in one HTML page cannot collide.
/// </summary>
internal sealed class SvgBuilder
{
    /// <summary>System font stacks only: the file must render offline without downloading a font.</summary>
    public const string FontFamily = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

    private readonly StringBuilder _text = new();
    private int _openGroups;

    public SvgBuilder(double width, double height, string? title)
    {
        _text.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"").Append(Num(width))
             .Append("\" height=\"").Append(Num(height))
             .Append("\" viewBox=\"0 0 ").Append(Num(width)).Append(' ').Append(Num(height))
             .Append("\" role=\"img\" font-family=\"").Append(Escape(FontFamily)).Append("\">\n");
        if (!string.IsNullOrEmpty(title)) _text.Append("<title>").Append(Escape(title)).Append("</title>\n");
        Rect(0, 0, width, height, "#ffffff", null);
    }

    /// <summary>Formats a coordinate or value: invariant culture, at most two decimals, never "-0".</summary>
    public static string Num(double value)
    {
        double rounded = Math.Round(value, 2, MidpointRounding.AwayFromZero);
        if (rounded == 0) rounded = 0; // turns -0 into 0
        return rounded.ToString("0.##", CultureInfo.InvariantCulture);
    }

    /// <summary>Escapes text for XML content and attribute values; drops characters XML 1.0 cannot hold.</summary>
    public static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (char c in text)
        {
            switch (c)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&apos;"); break;
                case '\t' or '\n' or '\r': sb.Append(' '); break;
                default:
                    if (c >= 0x20 && c != '\uFFFE' && c != '\uFFFF') sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>A rough width of <paramref name="text"/> in pixels, for layout without a font engine.</summary>
    public static double TextWidth(string text, double fontSize)
    {
        double em = 0;
        foreach (char c in text)
        {
            em += c switch
            {
                ' ' or '.' or ',' or ':' or ';' or '\'' or '|' or 'i' or 'j' or 'l' or '!' => 0.3,
                'f' or 't' or 'r' or '(' or ')' or '[' or ']' or '-' => 0.4,
                'm' or 'w' or 'M' or 'W' => 0.9,
                >= 'A' and <= 'Z' => 0.7,
                _ => 0.58,
            };
        }
        return em * fontSize;
    }

    public void OpenGroup(string? series = null, string? attributes = null)
    {
        _text.Append("<g");
        if (series is not null) _text.Append(" data-series=\"").Append(Escape(series)).Append('"');
        if (attributes is not null) _text.Append(' ').Append(attributes);
        _text.Append(">\n");
        if (series is not null) _text.Append("<title>").Append(Escape(series)).Append("</title>\n");
        _openGroups++;
    }

    public void CloseGroup()
    {
        if (_openGroups == 0) throw new InvalidOperationException("CloseGroup without a matching OpenGroup.");
        _text.Append("</g>\n");
        _openGroups--;
    }

    public void Rect(double x, double y, double width, double height, string? fill, string? stroke,
        double strokeWidth = 1, double fillOpacity = 1)
    {
        _text.Append("<rect x=\"").Append(Num(x)).Append("\" y=\"").Append(Num(y))
             .Append("\" width=\"").Append(Num(Math.Max(0, width))).Append("\" height=\"").Append(Num(Math.Max(0, height)))
             .Append("\" fill=\"").Append(fill ?? "none").Append('"');
        if (fillOpacity < 1) _text.Append(" fill-opacity=\"").Append(Num(fillOpacity)).Append('"');
        if (stroke is not null) _text.Append(" stroke=\"").Append(stroke).Append("\" stroke-width=\"").Append(Num(strokeWidth)).Append('"');
        _text.Append("/>\n");
    }

    public void Line(double x1, double y1, double x2, double y2, string stroke, double strokeWidth = 1, string? dash = null)
    {
        _text.Append("<line x1=\"").Append(Num(x1)).Append("\" y1=\"").Append(Num(y1))
             .Append("\" x2=\"").Append(Num(x2)).Append("\" y2=\"").Append(Num(y2))
             .Append("\" stroke=\"").Append(stroke).Append("\" stroke-width=\"").Append(Num(strokeWidth)).Append('"');
        if (dash is not null) _text.Append(" stroke-dasharray=\"").Append(dash).Append('"');
        _text.Append("/>\n");
    }

    /// <summary>A path from already formatted path data (see <see cref="PathData"/>).</summary>
    public void Path(string data, string? stroke, double strokeWidth, string? fill, double fillOpacity = 1, string? dash = null)
    {
        _text.Append("<path d=\"").Append(data).Append("\" fill=\"").Append(fill ?? "none").Append('"');
        if (fill is not null && fillOpacity < 1) _text.Append(" fill-opacity=\"").Append(Num(fillOpacity)).Append('"');
        if (stroke is not null)
        {
            _text.Append(" stroke=\"").Append(stroke).Append("\" stroke-width=\"").Append(Num(strokeWidth))
                 .Append("\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
            if (dash is not null) _text.Append(" stroke-dasharray=\"").Append(dash).Append('"');
        }
        _text.Append("/>\n");
    }

    public void Text(double x, double y, string text, double fontSize, string anchor = "start",
        string fill = "#222222", string? weight = null, double rotate = 0)
    {
        _text.Append("<text x=\"").Append(Num(x)).Append("\" y=\"").Append(Num(y))
             .Append("\" font-size=\"").Append(Num(fontSize)).Append("\" fill=\"").Append(fill).Append('"');
        if (anchor != "start") _text.Append(" text-anchor=\"").Append(anchor).Append('"');
        if (weight is not null) _text.Append(" font-weight=\"").Append(weight).Append('"');
        if (rotate != 0)
            _text.Append(" transform=\"rotate(").Append(Num(rotate)).Append(' ').Append(Num(x)).Append(' ').Append(Num(y)).Append(")\"");
        _text.Append('>').Append(Escape(text)).Append("</text>\n");
    }

    public override string ToString()
    {
        if (_openGroups != 0) throw new InvalidOperationException($"{_openGroups} SVG group(s) left open.");
        return _text.ToString() + "</svg>\n";
    }
}

/// <summary>Accumulates SVG path data ("M x y L x y ..."), starting a new sub-path after each break.</summary>
internal sealed class PathData
{
    private readonly StringBuilder _d = new();
    private bool _penDown;
    private int _pointsInSegment;

    public bool IsEmpty => _d.Length == 0;

    public void To(double x, double y)
    {
        if (_d.Length > 0) _d.Append(' ');
        _d.Append(_penDown ? 'L' : 'M').Append(SvgBuilder.Num(x)).Append(' ').Append(SvgBuilder.Num(y));
        _penDown = true;
        _pointsInSegment++;
    }

    /// <summary>Ends the current sub-path; a lone point becomes a dot (a zero-length segment with round caps).</summary>
    public void Break()
    {
        if (_pointsInSegment == 1) _d.Append(" l0 0");
        _penDown = false;
        _pointsInSegment = 0;
    }

    public void Close() { _d.Append(" Z"); _penDown = false; _pointsInSegment = 0; }

    public override string ToString()
    {
        Break();
        return _d.ToString();
    }
}
