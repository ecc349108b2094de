#pragma once
// One program's (or one subcommand's) command line: a table of options that feeds
// QCommandLineParser and, from the same rows, the grouped --help text, so the help
// cannot list a flag the parser does not take or miss one it does. meshscope,
// meshscope-cli and meshscope-demo all build theirs from it: `--opt value` and
// `--opt=value` read alike everywhere, --help, --version and --log behave the same,
// and every mistake ends in one line that names the option.

#include <QList>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>

class QCommandLineParser;

class QCoreApplication;

namespace meshscope {

// One row of the table.
struct CommandLineOption {
    QStringList names;  // without dashes: {"otlp-listen"}, or {"h", "help"}; the last is the one to look up
    QString valueName;  // "ADDR"; empty for a switch
    QString description;  // one sentence for --help
    QString missingValue;  // the reason when the value is missing or empty; empty: "--NAME needs a value"
};

class CommandLine {
public:
    // program names the version line ("meshscope-cli 0.1.0"); usage is the synopsis --help
    // starts with, about the paragraph under it.
    CommandLine(const QString &program, const QString &usage, const QString &about = {});
    ~CommandLine();
    CommandLine(const CommandLine &) = delete;
    CommandLine &operator=(const CommandLine &) = delete;

    // Options under a heading in --help; the note, if any, is printed below them. The
    // general options (--help, --version, --log) are always there, listed last.
    void addGroup(const QString &heading, const QList<CommandLineOption> &options, const QString &note = {});

    // For a program with subcommands: the first argument that is not an option is the
    // subcommand, and everything after it is left to that subcommand's own CommandLine.
    void setSubcommandMode();

    // Up to `count` arguments that are not options are the command's own (a trace id);
    // more are refused as unexpected.
    void allowPositional(qsizetype count) { m_positionalAllowed = count; }

    // args without the program name. False with error() a one-line reason: an unknown
    // option, a missing or empty value, an argument no option takes, an unknown --log
    // category. --log takes effect here (meshscope::enableLogCategories), so that what
    // follows the parse can already log.
    bool parse(const QStringList &args);
    QString error() const { return m_error; }
    bool helpRequested() const;
    bool versionRequested() const;

    // What a command's parse function starts with: parse(), then say whether --help or
    // --version was asked for. Empty on success, else the one-line reason; *stop is true
    // when help or the version is all that is wanted (no further options are read).
    QString parseCommand(const QStringList &args, bool *help, bool *version, bool *stop);
    // The same for a meshscope-cli COMMAND, answered here: an error printed as
    // "meshscope-cli COMMAND: why" (exit status 2), --help printed with `help` (the
    // command's helpText() when empty) and --version (0). nullopt: go on.
    std::optional<int> parseCommandOrExit(const QStringList &args, const char *command, const QString &help = {});

    bool isSet(const QString &name) const;
    QString value(const QString &name) const;  // the last one given
    QStringList values(const QString &name) const;
    QStringList positionalArguments() const;

    // Subcommand mode: the subcommand (empty when none was given) and the arguments for
    // its own CommandLine, with this level's --log handed on.
    QString subcommand() const;
    QStringList subcommandArguments() const;

    enum class Sections { All, WithoutGeneral };
    QString helpText(Sections sections = Sections::All) const;
    QString versionText() const;  // "meshscope-cli 0.1.0"
    // Every option's long name (the last of its names), general ones included.
    QStringList optionNames() const;

private:
    struct Group {
        QString heading;
        QList<CommandLineOption> options;
        QString note;
    };
    const CommandLineOption *find(const QString &name) const;
    QString missingValue(const CommandLineOption &option) const;
    QString diagnose(const QStringList &args) const;
    QString checkValues() const;

    QString m_program;
    QString m_usage;
    QString m_about;
    QList<Group> m_groups;
    Group m_general;
    bool m_subcommands = false;
    qsizetype m_positionalAllowed = 0;
    std::unique_ptr<QCommandLineParser> m_parser;
    QString m_error;
};

// The project version CMake configured (PROJECT_VERSION), e.g. "0.1.0".
QString appVersion();

// Runs the event loop until SIGINT or SIGTERM, or for durationMs when it is >= 0: how
// the CLI's long-running commands (graph, xds serve) end cleanly.
void runUntilInterrupted(QCoreApplication &app, int durationMs = -1);

}  // namespace meshscope
