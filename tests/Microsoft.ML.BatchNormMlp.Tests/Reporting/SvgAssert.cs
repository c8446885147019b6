using System.Xml;
using System.Xml.Linq;

namespace Microsoft.ML.BatchNormMlp.Tests.Reporting;

/// <summary>Parses SVG and HTML output as XML and finds what a reader would look for in it.</summary>
internal static class SvgAssert
{
    public static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    /// <summary>Parses the text as XML (throws with line and position when it is not well-formed).</summary>
    public static XDocument Parse(string xml)
    {
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        return XDocument.Load(reader);
    }

    /// <summary>The series groups (<c>g[data-series]</c>) in document order.</summary>
    public static List<XElement> SeriesGroups(XContainer doc) =>
        doc.Descendants(Svg + "g").Where(g => g.Attribute("data-series") is not null).ToList();

    public static List<string> SeriesNames(XContainer doc) =>
        SeriesGroups(doc).Select(g => g.Attribute("data-series")!.Value).ToList();

    /// <summary>All text elements' contents.</summary>
    public static List<string> Texts(XContainer doc) => doc.Descendants(Svg + "text").Select(t => t.Value).ToList();

    /// <summary>The texts inside the legend group(s).</summary>
    public static List<string> LegendTexts(XContainer doc) =>
        doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "legend")
           .SelectMany(g => g.Descendants(Svg + "text")).Select(t => t.Value).ToList();

    /// <summary>Tick labels on the axes.</summary>
    public static List<string> AxisTexts(XContainer doc) =>
        doc.Descendants(Svg + "g").Where(g => (string?)g.Attribute("class") == "axes")
           .SelectMany(g => g.Descendants(Svg + "text")).Select(t => t.Value).ToList();

    /// <summary>Number of points ("M" or "L" commands) in a path's data.</summary>
    public static int PathPoints(XElement path) =>
        path.Attribute("d")!.Value.Count(c => c is 'M' or 'L');

    public static int SubPaths(XElement path) => path.Attribute("d")!.Value.Count(c => c == 'M');
}
