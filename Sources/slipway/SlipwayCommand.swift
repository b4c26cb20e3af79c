import SlipwayCLI

@main
struct Main {
    static func main() async {
        await SlipwayCommand.run()
    }
}
