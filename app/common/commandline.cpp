#include "commandline.h"

#include "meshscope_version.h"  // generated from project(): every program reports the same version
#include "model/logging.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QTimer>

#include <cstdio>

#include <atomic>

#include <csignal>

namespace meshscope {

namespace {

constexpr qsizetype kHelpWidth = 100;  // fits a terminal with room to spare
constexpr qsizetype kNameColumn = 34;  // where descriptions start

QString dashed(const QString &name) { return (name.size() == 1 ? QStringLiteral("-") : QStringLiteral("--")) + name; }

QString namesText(const CommandLineOption &option)
{
    QStringList names;
    for (const QString &n : option.names)
        names << dashed(n);
    QString text = names.join(QStringLiteral(", "));
    if (!option.valueName.isEmpty())
        text += QLatin1Char(' ') + option.valueName;
    return text;
}

QStringList wrapWords(const QString &text, qsizetype width)
{
    QStringList lines;
    QString line;
    for (const QString &word : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (!line.isEmpty() && line.size() + 1 + word.size() > width) {
            lines << line;
            line.clear();
        }
        if (!line.isEmpty())
            line += QLatin1Char(' ');
        line += word;
    }
    if (!line.isEmpty())
        lines << line;
    return lines;
}

// "  --name VALUE      description wrapped under itself"
QString helpRow(const CommandLineOption &option)
{
    const QString left = QStringLiteral("  ") + namesText(option);
    const QString indent(kNameColumn, QLatin1Char(' '));
    QString out;
    QStringList lines = wrapWords(option.description, kHelpWidth - kNameColumn);
    if (lines.isEmpty())
        lines << QString();
    if (left.size() + 2 <= kNameColumn)
        out = left.leftJustified(kNameColumn) + lines.takeFirst() + QLatin1Char('\n');
    else
        out = left + QLatin1Char('\n');
    for (const QString &l : lines)
        out += indent + l + QLatin1Char('\n');
    return out;
}

// Multi-line text as written, each line indented; trailing newlines dropped.
QString indented(const QString &text, const QString &indent)
{
    QString body = text;
    while (body.endsWith(QLatin1Char('\n')))
        body.chop(1);
    QString out;
    for (const QString &line : body.split(QLatin1Char('\n'))) {
        if (!line.isEmpty())
            out += indent + line;
        out += QLatin1Char('\n');
    }
    return out;
}

}  // namespace

CommandLine::CommandLine(const QString &program, const QString &usage, const QString &about)
    : m_program(program)
    , m_usage(usage)
    , m_about(about)
    , m_parser(std::make_unique<QCommandLineParser>())
{
    // "-name" reads as "--name": Qt's own programs take single-dash words, and no
    // meshscope option is a cluster of one-letter switches.
    m_parser->setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QString categories = logCategoryNames().join(QStringLiteral(", "));
    m_general.heading = QStringLiteral("General");
    m_general.options = {
        {{QStringLiteral("h"), QStringLiteral("help")}, {}, QStringLiteral("print this help and exit"), {}},
        {{QStringLiteral("version")}, {}, QStringLiteral("print the version and exit"), {}},
        {{QStringLiteral("log")}, QStringLiteral("CATEGORY[,CATEGORY]"),
            QStringLiteral("debug lines on stderr from these categories: %1, or all "
                           "(as QT_LOGGING_RULES=meshscope.NAME.debug=true)")
                .arg(categories),
            QStringLiteral("--log needs a category: %1 or all").arg(categories)},
    };
    for (const CommandLineOption &o : std::as_const(m_general.options))
        m_parser->addOption(QCommandLineOption(o.names, o.description, o.valueName));
}

CommandLine::~CommandLine() = default;

void CommandLine::addGroup(const QString &heading, const QList<CommandLineOption> &options, const QString &note)
{
    for (const CommandLineOption &o : options) {
        const bool added = m_parser->addOption(QCommandLineOption(o.names, o.description, o.valueName));
        Q_ASSERT_X(added, "CommandLine::addGroup", "an option is declared twice");
        Q_UNUSED(added);
    }
    m_groups.append({heading, options, note});
}

void CommandLine::setSubcommandMode()
{
    m_subcommands = true;
    m_parser->setOptionsAfterPositionalArgumentsMode(QCommandLineParser::ParseAsPositionalArguments);
}

QString CommandLine::parseCommand(const QStringList &args, bool *help, bool *version, bool *stop)
{
    *stop = false;
    if (!parse(args))
        return error();
    *help = helpRequested();
    *version = versionRequested();
    *stop = *help || *version;
    return {};
}

std::optional<int> CommandLine::parseCommandOrExit(const QStringList &args, const char *command, const QString &help)
{
    bool wantsHelp = false, wantsVersion = false, stop = false;
    if (const QString e = parseCommand(args, &wantsHelp, &wantsVersion, &stop); !e.isEmpty()) {
        std::fprintf(stderr, "meshscope-cli %s: %s\n", command, qPrintable(e));
        return 2;
    }
    if (wantsHelp) {
        std::fputs(qPrintable(help.isEmpty() ? helpText() : help), stdout);
        return 0;
    }
    if (wantsVersion) {
        std::printf("%s\n", qPrintable(versionText()));
        return 0;
    }
    return std::nullopt;
}

bool CommandLine::parse(const QStringList &args)
{
    m_error.clear();
    if (!m_parser->parse(QStringList {m_program} + args)) {
        // QCommandLineParser's own words name no value and end with a period; walk
        // the arguments again for the reason the table can give.
        m_error = diagnose(args);
        if (m_error.isEmpty()) {
            m_error = m_parser->errorText().trimmed();
            if (m_error.endsWith(QLatin1Char('.')))
                m_error.chop(1);
        }
        return false;
    }
    m_error = checkValues();
    if (m_error.isEmpty() && !m_subcommands && positionalArguments().size() > m_positionalAllowed)
        m_error = QStringLiteral("unexpected argument '%1' (see --help)")
                      .arg(positionalArguments().at(m_positionalAllowed));
    if (m_error.isEmpty() && isSet(QStringLiteral("log"))) {
        QString why;
        if (!enableLogCategories(values(QStringLiteral("log")).join(QLatin1Char(',')), &why))
            m_error = QStringLiteral("--log: ") + why;
    }
    return m_error.isEmpty();
}

const CommandLineOption *CommandLine::find(const QString &name) const
{
    auto in = [&name](const Group &g) -> const CommandLineOption * {
        for (const CommandLineOption &o : g.options) {
            if (o.names.contains(name))
                return &o;
        }
        return nullptr;
    };
    if (const CommandLineOption *o = in(m_general))
        return o;
    for (const Group &g : m_groups) {
        if (const CommandLineOption *o = in(g))
            return o;
    }
    return nullptr;
}

QString CommandLine::missingValue(const CommandLineOption &option) const
{
    if (!option.missingValue.isEmpty())
        return option.missingValue;
    return QStringLiteral("%1 needs a value").arg(dashed(option.names.last()));
}

QString CommandLine::diagnose(const QStringList &args) const
{
    for (qsizetype i = 0; i < args.size(); ++i) {
        const QString &a = args[i];
        if (a == QLatin1String("--"))
            break;
        if (!a.startsWith(QLatin1Char('-')) || a.size() == 1) {
            if (m_subcommands)
                break;  // the rest is the subcommand's
            continue;
        }
        const qsizetype dashes = a.startsWith(QLatin1String("--")) ? 2 : 1;
        const qsizetype eq = a.indexOf(QLatin1Char('='));
        const QString flag = eq < 0 ? a : a.left(eq);  // as typed, without its value
        const CommandLineOption *option = find(flag.mid(dashes));
        if (!option)
            return QStringLiteral("unknown option '%1' (see --help)").arg(flag);
        if (option->valueName.isEmpty()) {
            if (eq >= 0)
                return QStringLiteral("%1 takes no value").arg(flag);
        } else if (eq < 0 && ++i >= args.size()) {
            return missingValue(*option);
        }
    }
    return {};
}

QString CommandLine::checkValues() const
{
    auto check = [this](const Group &g) -> QString {
        for (const CommandLineOption &o : g.options) {
            if (o.valueName.isEmpty())
                continue;
            for (const QString &v : m_parser->values(o.names.last())) {
                // "--routes --listen X": the value was forgotten and the next option
                // taken for it. `--opt=--text` still passes a value that looks like one.
                const bool optionTaken
                    = v.startsWith(QLatin1String("--")) && find(v.mid(2).section(QLatin1Char('='), 0, 0));
                if (v.isEmpty() || optionTaken)
                    return missingValue(o);
            }
        }
        return {};
    };
    for (const Group &g : m_groups) {
        if (QString e = check(g); !e.isEmpty())
            return e;
    }
    return check(m_general);
}

bool CommandLine::helpRequested() const { return m_parser->isSet(QStringLiteral("help")); }

bool CommandLine::versionRequested() const { return m_parser->isSet(QStringLiteral("version")); }

bool CommandLine::isSet(const QString &name) const { return m_parser->isSet(name); }

QString CommandLine::value(const QString &name) const
{
    const QStringList all = m_parser->values(name);
    return all.isEmpty() ? QString() : all.last();
}

QStringList CommandLine::values(const QString &name) const { return m_parser->values(name); }

QStringList CommandLine::positionalArguments() const { return m_parser->positionalArguments(); }

QString CommandLine::subcommand() const
{
    const QStringList positional = positionalArguments();
    return positional.isEmpty() ? QString() : positional.first();
}

QStringList CommandLine::subcommandArguments() const
{
    QStringList args = positionalArguments().mid(1);
    if (isSet(QStringLiteral("log")))
        args = QStringList {QStringLiteral("--log"), values(QStringLiteral("log")).join(QLatin1Char(','))} + args;
    return args;
}

QString CommandLine::helpText(Sections sections) const
{
    QString out = m_usage.trimmed() + QLatin1Char('\n');
    if (!m_about.isEmpty())
        out += QLatin1Char('\n') + indented(m_about, QString());
    QList<Group> groups = m_groups;
    if (sections == Sections::All)
        groups << m_general;
    for (const Group &g : std::as_const(groups)) {
        out += QLatin1Char('\n') + g.heading + QStringLiteral(":\n");
        for (const CommandLineOption &o : g.options)
            out += helpRow(o);
        if (!g.note.isEmpty())
            out += indented(g.note, QStringLiteral("  "));
    }
    return out;
}

QString CommandLine::versionText() const { return m_program + QLatin1Char(' ') + appVersion(); }

QStringList CommandLine::optionNames() const
{
    QStringList names;
    for (const Group &g : m_groups) {
        for (const CommandLineOption &o : g.options)
            names << o.names.last();
    }
    for (const CommandLineOption &o : m_general.options)
        names << o.names.last();
    return names;
}

QString appVersion() { return QStringLiteral(MESHSCOPE_VERSION_STRING); }

namespace {
std::atomic<bool> g_interrupted {false};
}  // namespace

void runUntilInterrupted(QCoreApplication &app, int durationMs)
{
    // Signal handlers may only set a flag; the main thread looks at it.
    std::signal(SIGINT, [](int) { g_interrupted = true; });
    std::signal(SIGTERM, [](int) { g_interrupted = true; });
    QTimer poll;
    QObject::connect(&poll, &QTimer::timeout, &app, [&app] {
        if (g_interrupted)
            app.quit();
    });
    poll.start(50);
    if (durationMs >= 0)
        QTimer::singleShot(durationMs, &app, &QCoreApplication::quit);
    app.exec();
}

}  // namespace meshscope
